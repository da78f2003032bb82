import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedDirectory, DirectoryCache } from '#adapters/dynamodb/directory-cache.ts';
import { DynamoDirectory } from '#adapters/dynamodb/directory-store.ts';
import { DynamoDirectoryEditor } from '#adapters/dynamodb/directory-editor.ts';
import { withInvocationScope } from '#platform/invocation-scope.ts';
import type { Service } from '#directory/domain/directory.ts';
import { startLocalAws, type LocalAws } from '../../infra/local/local-aws.ts';
import { callsBetween } from '../../bench/aws-calls.ts';

// The router's and the notifier's directory reads go through a cache that one version read per invocation keeps
// true (directory-cache.ts). These show the reads it saves, and that every kind of directory write is seen by the
// next invocation: an admin's edit through the editor, a practices import, a bulk load.

let aws: LocalAws;

beforeAll(async () => {
  aws = await startLocalAws();
  await aws.seedDirectory('http://127.0.0.1:9');
});
afterAll(() => aws.stop());

const freshCache = (now?: () => number) =>
  cachedDirectory(
    new DirectoryCache(aws.documentClient, aws.tables.directory, now ? { now } : {}),
    new DynamoDirectory(aws.documentClient, aws.tables.directory),
  );

async function requestsOf(work: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = aws.requestCounts();
  await work();
  return callsBetween(before, aws.requestCounts());
}

describe('directory cache', () => {
  it('asks for the version once per invocation, and reads each record once while it stays the same', async () => {
    const directory = freshCache();
    const first = await requestsOf(() =>
      withInvocationScope(async () => {
        await directory.practice('A81001');
        await directory.practice('A81001');
        await directory.teamForPcn('U00001');
        await directory.servicesCovering('arts', { district: 'LS6' });
      }),
    );
    expect(first).toEqual({ 'DynamoDB.GetItem': 3, 'DynamoDB.Query': 1 });
    const next = await requestsOf(() =>
      withInvocationScope(async () => {
        expect((await directory.practice('A81001'))?.pcn).toBe('U00001');
        await directory.teamForPcn('U00001');
        await directory.servicesCovering('arts', { district: 'LS6' });
      }),
    );
    expect(next).toEqual({ 'DynamoDB.GetItem': 1 });
  });

  it("the next invocation after an admin's edit reads the record as edited", async () => {
    const directory = freshCache();
    const editor = new DynamoDirectoryEditor(aws.documentClient, aws.tables.directory);
    const covering = () => directory.servicesCovering('arts', { district: 'LS6' });
    const before = await withInvocationScope(covering);
    const studio = before.find((c) => c.service.id === 'svc-arts-studio')?.service;
    expect(studio?.capacity.state).toBe('open');
    const stored = (await editor.get('service', 'svc-arts-studio')) as Service;
    await editor.replace(
      'service',
      { ...stored, capacity: { ...stored.capacity, state: 'paused' } },
      stored.version,
    );
    const after = await withInvocationScope(covering);
    expect(after.find((c) => c.service.id === 'svc-arts-studio')?.service.capacity.state).toBe('paused');
  });

  it('a practices import and a bulk load are seen by the next invocation too', async () => {
    const directory = freshCache();
    const editor = new DynamoDirectoryEditor(aws.documentClient, aws.tables.directory);
    await expect(withInvocationScope(() => directory.practice('Z99001'))).resolves.toBeUndefined();
    await editor.putPractices([], [{ ods: 'Z99001', name: 'New Practice', pcn: 'U00001', area: 'LS6' }]);
    await expect(withInvocationScope(() => directory.practice('Z99001'))).resolves.toMatchObject({
      ods: 'Z99001',
    });
    await withInvocationScope(() => directory.channelOf('partner', 'arts-for-all'));
    await aws.seedDirectory('http://127.0.0.1:8');
    const channel = await withInvocationScope(() => directory.channelOf('partner', 'arts-for-all'));
    expect(JSON.stringify(channel)).toContain('127.0.0.1:8');
  });

  it('drops an entry after five minutes whatever the version says', async () => {
    let now = 0;
    const directory = freshCache(() => now);
    await withInvocationScope(() => directory.practice('A81001'));
    now = 299_000;
    expect(await requestsOf(() => withInvocationScope(() => directory.practice('A81001')))).toEqual({
      'DynamoDB.GetItem': 1,
    });
    now = 300_001;
    expect(await requestsOf(() => withInvocationScope(() => directory.practice('A81001')))).toEqual({
      'DynamoDB.GetItem': 2,
    });
  });
});
