import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchWriteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDirectoryEditor } from '#adapters/dynamodb/directory-editor.ts';
import { coverageKey, DynamoDirectory, loadDirectory } from '#adapters/dynamodb/directory-store.ts';
import { LinkWorkerTeam, Partner, Service } from '#directory/domain/directory.ts';
import { ConflictError } from '#kernel/errors.ts';
import { describeDirectoryEditorContract } from '../contract/directory-editor.contract.ts';
import { sampleDirectory } from '../unit/fixtures.ts';
import { useLocalTables } from '../support/local-tables.ts';

// The DynamoDB adapter on the local DynamoDB (dynalite, tables from the system description), read back through
// DynamoDirectory, against the contract the in-memory fake also meets (test/unit/directory-editor.contract.test.ts);
// then what only a store with separate writes can show: a crash between the record and its index loses nothing.

const local = useLocalTables();

describeDirectoryEditorContract('DynamoDB adapter on dynalite', () => ({
  editor: new DynamoDirectoryEditor(local.client, local.tables.directory),
  directory: new DynamoDirectory(local.client, local.tables.directory),
}));

/** The document local.client, except that the next `failures` batch writes fail: a crash after the profile write. */
function crashingBatches(failures: number): DynamoDBDocumentClient {
  let left = failures;
  return new Proxy(local.client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
      return (command: unknown) => {
        if (command instanceof BatchWriteCommand && left > 0) {
          left--;
          return Promise.reject(new Error('simulated crash before the index was written'));
        }
        return target.send(command as never);
      };
    },
  });
}

describe('DynamoDB directory editor: a crash between the record and its index', () => {
  const partner = Partner.parse({
    id: 'crash-partner',
    name: 'Crash Test Pantry',
    channel: { kind: 'webhook', url: 'https://hooks.example.test/crash' },
  });
  const service = Service.parse({
    id: 'crash-service',
    partnerId: 'crash-partner',
    name: 'Crash Pantry',
    categories: ['food'],
    coverage: { districts: ['CR1', 'CR2'] },
  });
  const reader = () => new DynamoDirectory(local.client, local.tables.directory);
  const listed = async (district: string) =>
    (await reader().servicesCovering('food', { district })).map(
      (c) => `${c.service.id}@v${c.service.version}`,
    );

  it('a replace that crashed after its profile write is finished by sending it again: the old area is gone', async () => {
    const editor = new DynamoDirectoryEditor(local.client, local.tables.directory);
    await editor.create('partner', partner);
    await editor.create('service', service);
    expect(await listed('CR2')).toEqual(['crash-service@v1']);

    const shrunk = { ...service, coverage: { ...service.coverage, districts: ['CR1'] } };
    const crashing = new DynamoDirectoryEditor(crashingBatches(1), local.tables.directory);
    await expect(crashing.replace('service', shrunk, 1)).rejects.toThrow('simulated crash');
    // The record is written, the index is not: CR2 still lists the old version.
    expect((await editor.get('service', 'crash-service'))?.version).toBe(2);
    expect(await listed('CR2')).toEqual(['crash-service@v1']);

    // The same edit again is a repeat: no version 3, and the index is finished.
    await expect(editor.replace('service', shrunk, 1)).resolves.toMatchObject({ version: 2 });
    expect(await listed('CR2')).toEqual([]);
    expect(await listed('CR1')).toEqual(['crash-service@v2']);
  });

  it('or by the next edit of the record, even from another area: every partition it may be in is remembered', async () => {
    const editor = new DynamoDirectoryEditor(local.client, local.tables.directory);
    const moved = {
      ...service,
      id: 'crash-service-2',
      coverage: { ...service.coverage, districts: ['CR3'] },
    };
    await editor.create('service', { ...service, id: 'crash-service-2' });
    await expect(
      new DynamoDirectoryEditor(crashingBatches(1), local.tables.directory).replace('service', moved, 1),
    ).rejects.toThrow('simulated crash');
    // Someone else's later edit, made on the version now stored, moves it once more.
    await editor.replace('service', { ...moved, coverage: { ...moved.coverage, districts: ['CR4'] } }, 2);
    for (const district of ['CR1', 'CR2', 'CR3'])
      expect((await listed(district)).filter((s) => s.startsWith('crash-service-2'))).toEqual([]);
    expect(await listed('CR4')).toEqual(['crash-service-2@v3']);
  });

  it("a partner's rename that crashed half-way through its services is finished by sending it again", async () => {
    const editor = new DynamoDirectoryEditor(local.client, local.tables.directory);
    const owner = { ...partner, id: 'crash-owner' };
    await editor.create('partner', owner);
    for (const id of ['crash-a', 'crash-b'])
      await editor.create('service', {
        ...service,
        id,
        partnerId: owner.id,
        coverage: { ...service.coverage, districts: ['CR9'] },
      });
    const renamed = { ...owner, name: 'Renamed Pantry' };
    await expect(
      new DynamoDirectoryEditor(crashingBatches(1), local.tables.directory).replace('partner', renamed, 1),
    ).rejects.toThrow('simulated crash');
    await editor.replace('partner', renamed, 1);
    const names = (await reader().servicesCovering('food', { district: 'CR9' })).map((c) => c.partner.name);
    expect(names).toEqual(['Renamed Pantry', 'Renamed Pantry']);
  });

  it('a create that crashed before its index is finished by sending it again', async () => {
    const editor = new DynamoDirectoryEditor(local.client, local.tables.directory);
    const fresh = { ...service, id: 'crash-new', coverage: { ...service.coverage, districts: ['CR5'] } };
    await expect(
      new DynamoDirectoryEditor(crashingBatches(1), local.tables.directory).create('service', fresh),
    ).rejects.toThrow('simulated crash');
    expect(await listed('CR5')).toEqual([]);
    await expect(editor.create('service', fresh)).resolves.toEqual(fresh);
    expect(await listed('CR5')).toEqual(['crash-new@v1']);
  });

  it('a team whose PCN another team takes between the check and the claim is told so; routing keeps the other', async () => {
    const team = (id: string) =>
      LinkWorkerTeam.parse({
        id,
        name: id,
        pcn: 'U77777',
        channel: { kind: 'webhook', url: `https://hooks.example.test/${id}` },
      });
    // The rival's claim lands just as our team's profile is written.
    const racing = new Proxy(local.client, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver) as unknown;
        return async (command: unknown) => {
          const result = await target.send(command as never);
          if (command instanceof PutCommand && command.input.Item?.pk === 'TEAM#race-late')
            await new DynamoDirectoryEditor(local.client, local.tables.directory).create(
              'team',
              team('race-first'),
            );
          return result;
        };
      },
    }) as DynamoDBDocumentClient;
    const error = await new DynamoDirectoryEditor(racing, local.tables.directory)
      .create('team', team('race-late'))
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toContain(
      'team race-late is stored (version 1), but meanwhile race-first',
    );
    expect((await reader().teamForPcn('U77777'))?.id).toBe('race-first');
  });

  it('edits a directory loaded by loadDirectory (items without indexKeys) as well', async () => {
    const snapshot = sampleDirectory();
    await loadDirectory(local.client, local.tables.directory, snapshot);
    const editor = new DynamoDirectoryEditor(local.client, local.tables.directory);
    const studio = await editor.get('service', 'svc-arts-studio');
    expect(studio).toBeDefined();
    await editor.replace('service', { ...studio!, coverage: { ...studio!.coverage, districts: ['LS6'] } }, 1);
    const { Items = [] } = await local.client.send(
      new QueryCommand({
        TableName: local.tables.directory,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': coverageKey('arts', 'D', 'LS2') },
      }),
    );
    expect(Items.map((item) => item.sk)).not.toContain('SERVICE#svc-arts-studio');
    expect((await reader().servicesCovering('arts', { district: 'LS6' })).map((c) => c.service.id)).toContain(
      'svc-arts-studio',
    );
  });
  it('reads the PCNs loadDirectory seeded (what the admin API checks a team against)', async () => {
    const snapshot = sampleDirectory();
    await loadDirectory(local.client, local.tables.directory, snapshot);
    const editor = new DynamoDirectoryEditor(local.client, local.tables.directory);
    for (const pcn of snapshot.pcns) expect(await editor.pcn(pcn.code)).toEqual(pcn);
  });

  it('retiring a partner loaded by loadDirectory takes its services out of matching (they are listed under it)', async () => {
    await loadDirectory(local.client, local.tables.directory, sampleDirectory());
    const editor = new DynamoDirectoryEditor(local.client, local.tables.directory);
    const covering = async () =>
      (await reader().servicesCovering('nature', { district: 'LS6' })).map((c) => c.service.id);
    expect(await covering()).toContain('svc-green-gym');
    const partner = await editor.get('partner', 'green-gym');
    await editor.replace('partner', { ...partner!, status: 'retired' }, partner!.version);
    expect(await covering()).not.toContain('svc-green-gym');
  });
});
