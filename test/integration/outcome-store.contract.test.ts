import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DynamoOutcomeStore } from '#adapters/dynamodb/outcome-store.ts';
import { DynamoReferralStore } from '#adapters/dynamodb/referral-store.ts';
import { describeOutcomeStoreContract } from '../contract/outcome-store.contract.ts';
import { sampleReferral } from '../unit/fixtures.ts';
import { useLocalTables } from '../support/local-tables.ts';

// The DynamoDB adapter on the local DynamoDB (dynalite, tables from the system description), against the contract
// the in-memory fake also meets (test/unit/outcome-store.contract.test.ts).

const local = useLocalTables();

describeOutcomeStoreContract(
  'DynamoDB adapter on dynalite',
  () => new DynamoOutcomeStore(local.client, local.tables.referrals),
);

describe('measure sets beside the referral in its partition', () => {
  it('leave the referral item as it was, and the referral item is not listed as a set', async () => {
    const referrals = new DynamoReferralStore(local.client, local.tables.referrals);
    const outcomes = new DynamoOutcomeStore(local.client, local.tables.referrals);
    const referral = sampleReferral('leeds-arts-and-mental-health', { referralId: randomUUID() });
    await referrals.create(referral);
    await outcomes.add({
      referralId: referral.referralId,
      id: randomUUID(),
      timepoint: 'baseline',
      takenOn: '2026-03-10',
      recordedAt: '2026-03-10T10:15:00.000Z',
      recordedBy: { subject: 'lw-subject', team: 'lw-woodhouse' },
      fingerprint: 'a'.repeat(64),
      lonelinessDirect: 'never',
    });
    await expect(referrals.get(referral.referralId)).resolves.toEqual(referral);
    expect(await outcomes.list(referral.referralId)).toHaveLength(1);
  });
});
