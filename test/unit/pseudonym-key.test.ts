import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { FilePseudonymKey } from '#adapters/secrets/file-pseudonym-key.ts';
import { SecretsManagerPseudonymKey } from '#adapters/secrets/secrets-manager-pseudonym-key.ts';
import { pseudonymKeyFrom } from '#platform/secrets.ts';

// The pseudonym key's two stores: the local file (made on first use, kept after) and Secrets Manager (read once).

const directory = (): string => mkdtempSync(join(tmpdir(), 'pseudonym-key-'));

describe('the local pseudonym key file', () => {
  it('is made on first use, readable by its owner only, and the same key after', async () => {
    const file = join(directory(), 'nested', 'pseudonym-key');
    const key = await new FilePseudonymKey(file).key();
    expect(key.byteLength).toBeGreaterThanOrEqual(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Another process (a CLI run, the function's worker) reads the same key.
    expect(Buffer.from(await new FilePseudonymKey(file).key()).equals(Buffer.from(key))).toBe(true);
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  it('two asking at once end up with one key', async () => {
    const file = join(directory(), 'pseudonym-key');
    const [a, b] = await Promise.all([new FilePseudonymKey(file).key(), new FilePseudonymKey(file).key()]);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  it('refuses a key file too short to be a key', async () => {
    const file = join(directory(), 'pseudonym-key');
    writeFileSync(file, 'short\n');
    await expect(new FilePseudonymKey(file).key()).rejects.toThrow(/shorter than 32 bytes/);
  });
});

describe('the pseudonym key in Secrets Manager', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  afterEach(() => secretsManager.reset());

  it('reads the named secret once per execution environment', async () => {
    secretsManager.on(GetSecretValueCommand, { SecretId: 'Stack/evaluation/pseudonym-key' }).resolves({
      SecretString: 'A'.repeat(64),
    });
    const store = new SecretsManagerPseudonymKey(
      new SecretsManagerClient({}),
      'Stack/evaluation/pseudonym-key',
    );
    expect(Buffer.from(await store.key()).toString()).toBe('A'.repeat(64));
    await store.key();
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('tries again after a failed read, and refuses a short secret', async () => {
    secretsManager
      .on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({ SecretString: 'x' });
    const store = new SecretsManagerPseudonymKey(new SecretsManagerClient({}), 'k');
    await expect(store.key()).rejects.toThrow('throttled');
    await expect(store.key()).rejects.toThrow(/shorter than 32 bytes/);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('PSEUDONYM_KEY chooses the store, and says what is wrong when it names none', () => {
    expect(pseudonymKeyFrom('secretsmanager:Stack/evaluation/pseudonym-key')).toBeInstanceOf(
      SecretsManagerPseudonymKey,
    );
    expect(pseudonymKeyFrom('file:/tmp/x')).toBeInstanceOf(FilePseudonymKey);
    expect(() => pseudonymKeyFrom('')).toThrow(/PSEUDONYM_KEY is not set/);
  });
});
