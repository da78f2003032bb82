import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalAws, type LocalAws } from '../../infra/local/local-aws.ts';
import { readDirectory, sampleDirectoryFile } from '../../infra/local/seed.ts';
import { importOrukFile } from '../../infra/ops/directory/import-oruk.ts';
import { DynamoDirectoryEditor } from '#adapters/dynamodb/directory-editor.ts';
import { DynamoDirectory } from '#adapters/dynamodb/directory-store.ts';
import { importOruk, type OrukRecords } from '#directory/domain/oruk.ts';
import { InMemoryAuditLog } from '../unit/fakes.ts';

// `npm run directory` as an operator runs it (spawned through tsx), against dynalite with the real DynamoDB
// DirectoryEditor, the secret store as a file (as npm start keeps it), and read back through what matching reads.

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = 'infra/ops/directory-cli.ts';
const sampleFile = `${root}events/oruk/sample-services.json`;
const badFile = `${root}events/oruk/bad-services.json`;
const practicesFile = `${root}events/ods/practice-pcn-sample.csv`;
/** The sample ORUK file's channels point at npm start's webhook receiver. */
const webhookBase = 'http://127.0.0.1:3001';
const sampleText = (base = webhookBase): string =>
  readFileSync(sampleFile, 'utf8').replaceAll('{{WEBHOOK_BASE}}', base);
// With the local stack's channel policy: the sample's receivers are plain http on 127.0.0.1.
const auditing = (audit = new InMemoryAuditLog()) => ({
  audit,
  actor: 'import:sample-services.json',
  channels: 'allow-loopback-http' as const,
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(aws: LocalAws, args: string[]): Promise<Run> {
  return runWith(
    {
      AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoDbEndpoint,
      DIRECTORY_TABLE: aws.tables.directory,
      AUDIT_TABLE: aws.tables.audit,
      RECIPIENT_SECRETS: aws.environmentOf('directoryAdmin').RECIPIENT_SECRETS,
    },
    args,
  );
}

function runWith(env: Record<string, string | undefined>, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const secretsFileOf = (aws: LocalAws): string =>
  (aws.environmentOf('directoryAdmin').RECIPIENT_SECRETS ?? '').replace(/^file:/, '');

function secretsIn(aws: LocalAws): Record<string, string> {
  try {
    return JSON.parse(readFileSync(secretsFileOf(aws), 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

async function tableItems(aws: LocalAws): Promise<unknown[]> {
  const items: unknown[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await aws.documentClient.send(
      new ScanCommand({ TableName: aws.tables.directory, ExclusiveStartKey: startKey, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

function recordsOf(file: unknown): OrukRecords {
  const result = importOruk(file);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.records;
}

const sorted = <T extends { id: string }>(items: T[]): T[] =>
  [...items].sort((a, b) => a.id.localeCompare(b.id));
const contentOf = (file: unknown) => {
  const { partners, services } = recordsOf(file);
  return {
    partners: sorted(partners.map((p) => p.partner)),
    services: sorted(services.map((s) => s.service)),
  };
};

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'directory-cli-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('each command keeps the CLI contract', () => {
  // Nothing listens on port 9 here: a command that did try the table would say so.
  const nowhere = { AWS_ENDPOINT_URL_DYNAMODB: undefined, DYNAMODB_PORT: '9' };

  it.each([
    ['import', 'Usage: npm run directory -- import FILE'],
    ['export', 'Usage: npm run directory -- export [--out FILE]'],
    ['import-practices', 'Usage: npm run directory -- import-practices FILE'],
  ])('%s --help prints its own usage and exits 0', async (command, usage) => {
    const result = await runWith(nowhere, [command, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith(usage)).toBe(true);
    expect(result.stderr).toBe('');
  });

  it.each([
    [['import-practices', practicesFile, '--bogus'], "Unknown option '--bogus'"],
    [['import'], 'usage: npm run directory -- import FILE'],
    [['export', 'extra'], 'usage: npm run directory -- export'],
    [['import-practices', practicesFile, '--today', 'tomorrow'], '--today must be a date'],
    [['import-practices', practicesFile, '--today', '2026-13-45'], '--today must be a date'],
    [['import-practices', practicesFile, '--today', '2026-02-30'], '--today must be a date'],
    [['frobnicate'], 'unknown command "frobnicate"'],
  ])('%j is an argument problem: exit 2, no stack trace', async (args, message) => {
    const result = await runWith(nowhere, args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('Usage: ');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('says plainly when no table answers', async () => {
    const result = await runWith(nowhere, ['export']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('nothing answers at http://127.0.0.1:9');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('import then export, on an empty directory', () => {
  let aws: LocalAws;
  beforeAll(async () => {
    aws = await startLocalAws();
  });
  afterAll(async () => {
    await aws.stop();
  });

  it('imports the sample: every partner and service created, a signing secret per new partner, none printed', async () => {
    const result = await run(aws, ['import', sampleFile]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Partners: 11 created, 0 updated, 0 unchanged.');
    expect(result.stdout).toContain('Services: 19 created, 0 updated, 0 unchanged.');
    const secrets = secretsIn(aws);
    const partnerIds = recordsOf(JSON.parse(sampleText())).partners.map((p) => p.partner.id);
    expect(Object.keys(secrets).sort()).toEqual(partnerIds.map((id) => `partner/${id}`).sort());
    for (const secret of Object.values(secrets)) {
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
      expect(result.stdout + result.stderr).not.toContain(secret);
      expect(result.stdout + result.stderr).not.toContain(secret.slice('whsec_'.length));
    }
    expect(result.stdout).toContain(
      `Signing secrets generated for 11 new partners, stored in file:${secretsFileOf(aws)} as partner/<id>`,
    );
    expect(result.stdout).toMatch(/: advice-leeds, arts-for-all, .*, hyde-park-pantry, .*\.$/m);
    // Audited as the admin API audits a change, naming the file.
    const audit = await aws.documentClient.send(
      new ScanCommand({ TableName: aws.tables.audit, ConsistentRead: true }),
    );
    const entries = (audit.Items ?? []).filter((item) => String(item.referralId).startsWith('directory#'));
    expect(entries).toHaveLength(30);
    expect(entries).toContainEqual(
      expect.objectContaining({
        referralId: 'directory#service#svc-arts-studio',
        eventKey: 'v1',
        action: 'directory.service.created',
        actor: 'import:sample-services.json',
      }),
    );
  });

  it("points the file's {{WEBHOOK_BASE}} channels at WEBHOOK_BASE (a stack on other ports), on a dry run too", async () => {
    const result = await runWith(
      {
        AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoDbEndpoint,
        DIRECTORY_TABLE: aws.tables.directory,
        AUDIT_TABLE: aws.tables.audit,
        RECIPIENT_SECRETS: aws.environmentOf('directoryAdmin').RECIPIENT_SECRETS,
        WEBHOOK_BASE: 'http://127.0.0.1:4999',
      },
      ['import', sampleFile, '--dry-run'],
    );
    expect(result.code, result.stderr).toBe(0);
    // Every partner's channel differs from the one imported on 3001: all would be updated.
    expect(result.stdout).toContain('Partners: 0 to create, 11 to update, 0 unchanged.');
    expect(readFileSync(sampleFile, 'utf8')).not.toContain('127.0.0.1');
  });

  it('answers matching from what it wrote: coverage by district, LSOA and local authority; channels', async () => {
    const directory = new DynamoDirectory(aws.documentClient, aws.tables.directory);
    const ids = async (...args: Parameters<DynamoDirectory['servicesCovering']>) =>
      (await directory.servicesCovering(...args)).map((c) => c.service.id).sort();
    expect(await ids('food', { district: 'LS6', lsoa: 'E01011333' })).toEqual([
      'svc-food-parcels',
      'svc-hyde-park-pantry',
    ]);
    expect(await ids('debt-advice', { district: 'LS99', localAuthority: 'E08000035' })).toEqual([
      'svc-leeds-money-line',
    ]);
    // Retired: kept as a record, never offered.
    expect(await ids('arts', { district: 'LS2' })).toEqual(['svc-arts-studio']);
    expect(await directory.channelOf('partner', 'hyde-park-pantry')).toEqual({
      kind: 'webhook',
      url: `${webhookBase}/hooks/partner/hyde-park-pantry`,
    });
  });

  it('exports what it imported (the round trip), and importing the export changes nothing', async () => {
    const out = join(work, 'export.json');
    const exported = await run(aws, ['export', '--out', out]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain('Exported 19 services');
    const file = JSON.parse(readFileSync(out, 'utf8')) as unknown;
    expect(contentOf(file)).toEqual(contentOf(JSON.parse(sampleText())));

    const toStdout = await run(aws, ['export']);
    expect(JSON.parse(toStdout.stdout)).toEqual(file);

    const before = await tableItems(aws);
    const again = await run(aws, ['import', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Partners: 0 created, 0 updated, 11 unchanged.');
    expect(again.stdout).toContain('Services: 0 created, 0 updated, 19 unchanged.');
    expect(await tableItems(aws)).toEqual(before);
  });
});

describe('import onto the sample directory (as npm start seeds it)', () => {
  let aws: LocalAws;
  beforeAll(async () => {
    aws = await startLocalAws();
    await aws.seedDirectory(webhookBase);
  });
  afterAll(async () => {
    await aws.stop();
  });

  it('imports nothing from the bad file, and names each bad record by its path and rule', async () => {
    const before = await tableItems(aws);
    const secretsBefore = secretsIn(aws);
    const result = await run(aws, ['import', badFile]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('has 14 problems in 11 records; nothing was imported:');
    for (const line of [
      'contents[1].attributes[0].taxonomy_term.name: "Bus pass applications" maps to no intervention category',
      'contents[2].minimum_age: an age in years: a number or a numeric string (not "eighteen")',
      'contents[2].maximum_age: an age from 0 to 130',
      'contents[3].service_areas[0].uri: E02002330 is not an LSOA',
      'contents[3].service_areas[1].name: the area has no uri and its name "Leeds city centre" is not a postcode district',
      'contents[3].service_areas[2].uri: unknown area URI "http://example.org/areas/leeds"',
      'contents[4].organization: is required',
      'contents[5].id: duplicate id bad00001-0000-4000-8000-000000000001: also contents[0]',
      'contents[6].organization_id: no organisation with id bad00999-0000-4000-8000-000000000999',
      'contents[7].organization.organization_identifiers[0].identifier: a charity number: 6 to 8 digits',
      'contents[8].status: one of: active, inactive, defunct, temporarily closed',
      'contents[9].x_social_prescribing.response_time: is not a field of our extension',
      `contents[10].x_social_prescribing.id: service id "svc-knit-and-natter" is also contents[0]'s: duplicate id`,
      'contents[11].maximum_age: must not be below minimum_age (65 > 18)',
    ])
      expect(result.stderr).toContain(line);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(await tableItems(aws)).toEqual(before);
    expect(secretsIn(aws)).toEqual(secretsBefore);
  });

  it('leaves the records it shares with the sample directory alone and creates the rest; a dry run writes nothing', async () => {
    const before = await tableItems(aws);
    const dry = await run(aws, ['import', sampleFile, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('Dry run: nothing was written.');
    expect(dry.stdout).toContain('Partners: 1 to create, 0 to update, 10 unchanged.');
    expect(await tableItems(aws)).toEqual(before);

    const result = await run(aws, ['import', sampleFile]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Partners: 1 created, 0 updated, 10 unchanged.');
    expect(result.stdout).toContain('Services: 5 created, 0 updated, 14 unchanged.');
    // The seeded secrets are untouched; the new partner has one.
    const seeded = readDirectory(sampleDirectoryFile, webhookBase).secrets ?? {};
    expect(secretsIn(aws)).toMatchObject(seeded);
    expect(secretsIn(aws)['partner/hyde-park-pantry']).toMatch(/^whsec_/);
  });

  it('replaces a changed record at the version it read, keeping the partner response record and channel', async () => {
    const editor = new DynamoDirectoryEditor(aws.documentClient, aws.tables.directory);
    const stored = await editor.get('partner', 'green-gym');
    if (!stored) throw new Error('green-gym is seeded');
    const withRecord = await editor.replace(
      'partner',
      { ...stored, responseRecord: { answered: 10, accepted: 7 } },
      stored.version,
    );
    const file = JSON.parse(sampleText()) as { contents: Array<Record<string, unknown>> };
    const service = file.contents.find(
      (s) =>
        (s.organization as { x_social_prescribing?: { id?: string } } | undefined)?.x_social_prescribing
          ?.id === 'green-gym',
    );
    const organization = service?.organization as Record<string, unknown>;
    organization.name = 'Leeds Green Gym (renamed)';
    delete (organization.x_social_prescribing as Record<string, unknown>).channel;
    service!.name = 'Green Gym Volunteering (Tuesdays)';

    const result = await importOrukFile(file, { ...auditing(), editor, secrets: aws.recipientSecrets });
    expect(result.problems).toEqual([]);
    expect(result.partners.find((p) => p.id === 'green-gym')?.outcome).toBe('updated');
    expect(result.services.find((s) => s.id === 'svc-green-gym')?.outcome).toBe('updated');
    expect(await editor.get('partner', 'green-gym')).toEqual({
      ...withRecord,
      name: 'Leeds Green Gym (renamed)',
      version: withRecord.version + 1,
    });
    // Matching sees the new names.
    const directory = new DynamoDirectory(aws.documentClient, aws.tables.directory);
    const [candidate] = await directory.servicesCovering('nature', { district: 'LS6' });
    expect(candidate?.service.name).toBe('Green Gym Volunteering (Tuesdays)');
    expect(candidate?.partner.name).toBe('Leeds Green Gym (renamed)');
  });
});

describe('import-practices', () => {
  let aws: LocalAws;
  beforeAll(async () => {
    aws = await startLocalAws();
    // Teams only: the practices and PCNs come from the CSV.
    const editor = new DynamoDirectoryEditor(aws.documentClient, aws.tables.directory);
    for (const team of readDirectory(sampleDirectoryFile, webhookBase).teams)
      await editor.create('team', team);
  });
  afterAll(async () => {
    await aws.stop();
  });

  it('refuses a file with bad rows whole, naming each by line and column', async () => {
    const file = join(work, 'bad-practices.csv');
    const [header, first] = readFileSync(practicesFile, 'utf8').split('\n');
    writeFileSync(
      file,
      [
        header,
        first,
        first?.replace('A81001', 'Z1'),
        first?.replace('LS6 1AA', 'Leeds').replace('A81001', 'A81009'),
      ].join('\n'),
    );
    const result = await run(aws, ['import-practices', file, '--today', '2026-01-20']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('has 2 problems in 2 records; nothing was imported:');
    expect(result.stderr).toContain('line 3, "Partner Organisation Code": "Z1" is not an ODS practice code');
    expect(result.stderr).toContain('line 4, "Postcode": "Leeds" is not a postcode or a postcode district');
    const directory = new DynamoDirectory(aws.documentClient, aws.tables.directory);
    expect(await directory.practice('A81001')).toBeUndefined();
  });

  it('puts the PCNs and practices; Directory answers practice -> PCN -> team, and none for the PCN without one', async () => {
    const result = await run(aws, ['import-practices', practicesFile, '--today', '2026-01-20']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Put 4 PCNs and 6 practices.');
    expect(result.stdout).toContain('line 7: C83002 left the PCN on 2023-03-31 (U00003)');
    expect(result.stdout).toContain('No active link-worker team serves 1 practice');
    expect(result.stdout).toContain('C83002 St Leonards Surgery (PCN U00004)');

    const directory = new DynamoDirectory(aws.documentClient, aws.tables.directory);
    expect(await directory.practice('A81001')).toEqual({
      ods: 'A81001',
      name: 'Woodhouse Medical Practice',
      pcn: 'U00001',
      area: 'LS6',
    });
    expect((await directory.teamForPcn('U00001'))?.id).toBe('lw-woodhouse');
    const moved = await directory.practice('C83002');
    expect(moved).toMatchObject({ pcn: 'U00004', area: 'TN37' });
    expect(await directory.teamForPcn(moved?.pcn ?? '')).toBeUndefined();
  });
});
