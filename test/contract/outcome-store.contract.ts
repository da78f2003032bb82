import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { MeasureSetRecord } from '#outcomes/domain/measure-set.ts';
import type { OutcomeStore } from '#outcomes/ports.ts';

/**
 * What every OutcomeStore promises, run against the in-memory fake (test/unit/outcome-store.contract.test.ts) and
 * the DynamoDB adapter on the local DynamoDB (test/integration/outcome-store.contract.test.ts): a retried set is
 * written once, a referral has one baseline, sets come back exactly as written and in order, and a referral's sets
 * are its own. Every case uses a fresh referral id, so one table serves the whole suite.
 */
export function describeOutcomeStoreContract(
  name: string,
  makeStore: () => OutcomeStore | Promise<OutcomeStore>,
): void {
  describe(`OutcomeStore contract: ${name}`, () => {
    let store: OutcomeStore;
    let referralId: string;

    beforeEach(async () => {
      store = await makeStore();
      referralId = randomUUID();
    });

    const set = (overrides: Partial<MeasureSetRecord> = {}): MeasureSetRecord => ({
      referralId,
      id: randomUUID(),
      timepoint: 'baseline',
      takenOn: '2026-03-10',
      recordedAt: '2026-03-10T10:15:00.000Z',
      recordedBy: { subject: 'lw-subject', team: 'lw-woodhouse' },
      fingerprint: 'a'.repeat(64),
      ons4: { lifeSatisfaction: 4, worthwhile: 5, happiness: 6, anxiety: 7 },
      ...overrides,
    });

    it('a set comes back exactly as written, with only the instruments it holds', async () => {
      const full = set({
        ucla3: { lackCompanionship: 3, leftOut: 2, isolated: 1 },
        lonelinessDirect: 'some-of-the-time',
        swemwbs: {
          optimistic: 1,
          useful: 2,
          relaxed: 3,
          dealingWithProblems: 4,
          thinkingClearly: 5,
          closeToOthers: 1,
          ownMind: 2,
        },
      });
      const minimal: MeasureSetRecord = {
        referralId,
        id: randomUUID(),
        timepoint: 'follow-up',
        takenOn: '2026-05-01',
        recordedAt: '2026-05-01T09:00:00.000Z',
        recordedBy: { subject: 'lw-subject', team: 'lw-woodhouse' },
        fingerprint: 'b'.repeat(64),
        lonelinessDirect: 'never',
      };
      await expect(store.add(full)).resolves.toEqual({ added: true });
      await expect(store.add(minimal)).resolves.toEqual({ added: true });
      const listed = await store.list(referralId);
      expect(listed).toEqual([full, minimal]);
      expect(Object.keys(listed[1] ?? {}).sort()).toEqual(Object.keys(minimal).sort());
    });

    it('the same set again writes nothing and is told the set already there', async () => {
      const first = set();
      await store.add(first);
      await expect(store.add(first)).resolves.toEqual({ added: false, existing: first });
      const followUp = set({ timepoint: 'follow-up', takenOn: '2026-04-01' });
      await store.add(followUp);
      await expect(store.add({ ...followUp, recordedAt: '2026-04-02T08:00:00.000Z' })).resolves.toEqual({
        added: false,
        existing: followUp,
      });
      await expect(store.list(referralId)).resolves.toEqual([first, followUp]);
    });

    it('the same set sent at once from several places is written once', async () => {
      const followUp = set({ timepoint: 'follow-up', takenOn: '2026-04-01' });
      const results = await Promise.all(Array.from({ length: 5 }, () => store.add(followUp)));
      expect(results.filter((r) => r.added)).toHaveLength(1);
      for (const result of results) if (!result.added) expect(result.existing).toEqual(followUp);
      await expect(store.list(referralId)).resolves.toEqual([followUp]);
    });

    it('one baseline per referral: a second, whatever its id or day, is refused with the first', async () => {
      const first = set();
      await store.add(first);
      const second = set({ takenOn: '2026-03-11', fingerprint: 'c'.repeat(64) });
      await expect(store.add(second)).resolves.toEqual({ added: false, existing: first });
      await expect(store.list(referralId)).resolves.toEqual([first]);
    });

    it('two different baselines at once: one is written, the other told of it', async () => {
      const a = set();
      const b = set({ takenOn: '2026-03-12' });
      const [resultA, resultB] = await Promise.all([store.add(a), store.add(b)]);
      const written = resultA.added ? a : b;
      expect([resultA.added, resultB.added].sort()).toEqual([false, true]);
      const loser = resultA.added ? resultB : resultA;
      expect(loser).toEqual({ added: false, existing: written });
      await expect(store.list(referralId)).resolves.toEqual([written]);
    });

    it('lists the baseline first, then follow-ups by day taken, whatever order they came in', async () => {
      const june = set({ timepoint: 'follow-up', takenOn: '2026-06-01' });
      const april = set({ timepoint: 'follow-up', takenOn: '2026-04-01' });
      const baseline = set({ takenOn: '2026-03-10' });
      for (const s of [june, april, baseline]) await store.add(s);
      await expect(store.list(referralId)).resolves.toEqual([baseline, april, june]);
    });

    it("a referral's sets are its own; a referral with none lists none", async () => {
      const mine = set();
      await store.add(mine);
      const other = randomUUID();
      const theirs = set({ referralId: other });
      await expect(store.add(theirs)).resolves.toEqual({ added: true });
      await expect(store.list(referralId)).resolves.toEqual([mine]);
      await expect(store.list(other)).resolves.toEqual([theirs]);
      await expect(store.list(randomUUID())).resolves.toEqual([]);
    });
  });
}
