import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoReceivedReferrals } from '#adapters/dynamodb/received-referrals.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import { DynamoOutcomeStore } from '#adapters/dynamodb/outcome-store.ts';
import { offerSortKey } from '#adapters/dynamodb/offer-store.ts';
import type { Referral } from '#referral/domain/referral.ts';
import { sampleReferral } from '../unit/fixtures.ts';
import { useLocalTables } from '../support/local-tables.ts';

// The evaluation extract's reads on local DynamoDB (dynalite with the system's tables and indexes): referrals found
// by the sparse `received` index, one Query per month with both days' ends included, and each read with one Query of
// its partition (the referral, its offers, its measure sets), counting every request the adapter sends.

const local = useLocalTables();

const ids = {
  lastOfJanuary: '00000000-0000-4000-8000-00000000e001',
  firstOfFebruary: '00000000-0000-4000-8000-00000000e002',
  endOfFebruary: '00000000-0000-4000-8000-00000000e003',
  march: '00000000-0000-4000-8000-00000000e004',
};

const referralAt = (referralId: string, receivedAt: string): Referral => ({
  ...sampleReferral('leeds-arts-and-mental-health'),
  referralId,
  receivedAt,
  updatedAt: receivedAt,
});

/** The adapter with a count of the commands it sends, by name. */
function countedAdapter(): { adapter: DynamoReceivedReferrals; sent: string[] } {
  const sent: string[] = [];
  const client = local.client;
  const counting = new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'send')
        return (command: { constructor: { name: string } }) => {
          sent.push(command.constructor.name);
          return target.send(command as never);
        };
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return { adapter: new DynamoReceivedReferrals(counting, local.tables.referrals), sent };
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const id of iterable) out.push(id);
  return out;
}

describe('referrals by when received (the received index)', () => {
  it('lists a month with both days of the range included, by Query only, and reads a partition with one Query', async () => {
    const store = new DynamoReferralStore(local.client, local.tables.referrals);
    await store.create(referralAt(ids.lastOfJanuary, '2026-01-31T23:59:59.999Z'));
    await store.create(referralAt(ids.firstOfFebruary, '2026-02-01T00:00:00.000Z'));
    await store.create(referralAt(ids.endOfFebruary, '2026-02-28T23:59:59.999Z'));
    await store.create(referralAt(ids.march, '2026-03-01T00:00:00.000Z'));
    // An offer and a measure set beside the February referral: in its partition, never in the index.
    await local.client.send(
      new PutCommand({
        TableName: local.tables.referrals,
        Item: {
          referralId: ids.firstOfFebruary,
          sk: offerSortKey(`${ids.firstOfFebruary}.offer.arts.svc-arts-studio`),
          offerId: `${ids.firstOfFebruary}.offer.arts.svc-arts-studio`,
          state: 'declined',
          decline: { reason: 'no-capacity', at: '2026-02-02T10:00:00.000Z', by: 'partner' },
        },
      }),
    );
    await new DynamoOutcomeStore(local.client, local.tables.referrals).add({
      referralId: ids.firstOfFebruary,
      id: '00000000-0000-4000-8000-0000000000b1',
      timepoint: 'baseline',
      takenOn: '2026-02-03',
      recordedAt: '2026-02-03T10:00:00.000Z',
      recordedBy: { subject: 'lw-1', team: 'lw-woodhouse' },
      fingerprint: 'f',
      ucla3: { lackCompanionship: 2, leftOut: 2, isolated: 2 },
    });

    const { adapter, sent } = countedAdapter();
    expect(await collect(adapter.idsReceived('2026-01', '2026-01-31', '2026-02-28'))).toEqual([
      ids.lastOfJanuary,
    ]);
    expect((await collect(adapter.idsReceived('2026-02', '2026-01-31', '2026-02-28'))).sort()).toEqual(
      [ids.firstOfFebruary, ids.endOfFebruary].sort(),
    );
    // A range that starts mid-month leaves out what came before its first day.
    expect(await collect(adapter.idsReceived('2026-02', '2026-02-02', '2026-02-28'))).toEqual([
      ids.endOfFebruary,
    ]);
    expect(sent).toEqual(['QueryCommand', 'QueryCommand', 'QueryCommand']);

    sent.length = 0;
    const partition = await adapter.partition(ids.firstOfFebruary);
    expect(sent).toEqual(['QueryCommand']);
    expect(partition?.referral.referralId).toBe(ids.firstOfFebruary);
    // The index's key is the table's business, not the referral's.
    expect(partition?.referral).not.toHaveProperty('receivedMonth');
    expect(partition?.referral).not.toHaveProperty('sk');
    expect(partition?.offers.map((offer) => offer.decline?.reason)).toEqual(['no-capacity']);
    expect(partition?.outcomes.map((set) => set.timepoint)).toEqual(['baseline']);

    expect(await adapter.partition('00000000-0000-4000-8000-00000000ffff')).toBeUndefined();
  });
});
