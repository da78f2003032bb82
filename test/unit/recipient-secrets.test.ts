import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { FileRecipientSecrets } from '#adapters/secrets/file-recipient-secrets.ts';
import { SecretsManagerRecipientSecrets } from '#adapters/secrets/secrets-manager-recipient-secrets.ts';
import { recipientSecretsFrom } from '#platform/secrets.ts';

const secret = 'whsec_hrlpdYRgiqLoqF1Wrvr1sv2Ev2WMdlIj';

describe('SecretsManagerRecipientSecrets', () => {
  const sm = mockClient(SecretsManagerClient);
  let now = 0;
  const store = () =>
    new SecretsManagerRecipientSecrets(new SecretsManagerClient({}), 'Stack/recipients', 300, () => now);
  beforeEach(() => {
    sm.reset();
    now = 1_000_000;
  });

  it('reads one secret per recipient under the prefix, and caches it for the cache time', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'Stack/recipients/partner/arts-for-all' }).resolves({
      SecretString: secret,
    });
    const secrets = store();
    expect(await secrets.secretOf('partner', 'arts-for-all')).toBe(secret);
    now += 299_000;
    expect(await secrets.secretOf('partner', 'arts-for-all')).toBe(secret);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    now += 2_000;
    await secrets.secretOf('partner', 'arts-for-all');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('a missing secret is undefined and not cached, so a recipient added a moment ago is found next time', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new ResourceNotFoundException({ message: 'no', $metadata: {} }))
      .resolves({
        SecretString: secret,
      });
    const secrets = store();
    expect(await secrets.secretOf('team', 'lw-woodhouse')).toBeUndefined();
    expect(await secrets.secretOf('team', 'lw-woodhouse')).toBe(secret);
  });

  it("reads a practice's secret (the messages back to the GP) under the same prefix", async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'Stack/recipients/practice/A81001' }).resolves({
      SecretString: secret,
    });
    expect(await store().secretOf('practice', 'A81001')).toBe(secret);
  });

  it('other failures are thrown, not read as "no secret"', async () => {
    sm.on(GetSecretValueCommand).rejects(new Error('throttled'));
    await expect(store().secretOf('team', 'lw-woodhouse')).rejects.toThrow('throttled');
  });

  it('putSecret creates the secret, or puts a new value when it exists (rotation), and forgets the cached one', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: 'whsec_old' })
      .resolves({ SecretString: secret });
    sm.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'exists', $metadata: {} }));
    const secrets = store();
    expect(await secrets.secretOf('team', 'lw-woodhouse')).toBe('whsec_old');
    await secrets.putSecret('team', 'lw-woodhouse', secret);
    expect(sm.commandCalls(CreateSecretCommand)[0]?.args[0].input).toMatchObject({
      Name: 'Stack/recipients/team/lw-woodhouse',
      SecretString: secret,
    });
    expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: 'Stack/recipients/team/lw-woodhouse',
      SecretString: secret,
    });
    expect(await secrets.secretOf('team', 'lw-woodhouse')).toBe(secret);
  });
});

describe('FileRecipientSecrets (the local stand-in)', () => {
  it('keeps secrets by recipient in one owner-only file, and sees a change made by another process', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'secrets-test-')), 'recipient-secrets.json');
    const writer = new FileRecipientSecrets(file);
    const reader = new FileRecipientSecrets(file);
    expect(await reader.secretOf('team', 'lw-woodhouse')).toBeUndefined();
    await writer.putSecrets({ 'team/lw-woodhouse': secret, 'partner/arts-for-all': 'whsec_other' });
    expect(await reader.secretOf('team', 'lw-woodhouse')).toBe(secret);
    expect(await reader.secretOf('partner', 'lw-woodhouse')).toBeUndefined();
    // A practice's, as the sample directory seeds them: its own kind, so a team of that id is not it.
    await writer.putSecret('practice', 'A81001', 'whsec_practice');
    expect(await reader.secretOf('practice', 'A81001')).toBe('whsec_practice');
    expect(await reader.secretOf('team', 'A81001')).toBeUndefined();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writer.putSecret('team', 'lw-woodhouse', 'whsec_rotated');
    expect(await reader.secretOf('team', 'lw-woodhouse')).toBe('whsec_rotated');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      'team/lw-woodhouse': 'whsec_rotated',
      'partner/arts-for-all': 'whsec_other',
      'practice/A81001': 'whsec_practice',
    });
  });
});

describe('recipientSecretsFrom', () => {
  it('picks the store from RECIPIENT_SECRETS, and says what is wrong when it is not set', () => {
    expect(recipientSecretsFrom('secretsmanager:Stack/recipients')).toBeInstanceOf(
      SecretsManagerRecipientSecrets,
    );
    expect(recipientSecretsFrom('file:/tmp/x.json')).toBeInstanceOf(FileRecipientSecrets);
    expect(() => recipientSecretsFrom(undefined)).toThrow(/RECIPIENT_SECRETS is not set/);
    expect(() => recipientSecretsFrom('vault:x')).toThrow(/granted recipientSecrets/);
  });
});
