import type { MeasureSetRecord } from '#outcomes/domain/measure-set.ts';
import type { AddOutcome, OutcomeStore } from '#outcomes/ports.ts';

/**
 * The in-memory OutcomeStore: the same promise as the DynamoDB adapter (test/contract/outcome-store.contract.ts),
 * kept by its own means: one baseline per referral, a follow-up's place its day and id. Copies in and out.
 */
export class InMemoryOutcomeStore implements OutcomeStore {
  private readonly sets = new Map<string, MeasureSetRecord[]>();

  async add(set: MeasureSetRecord): Promise<AddOutcome> {
    const sets = this.sets.get(set.referralId) ?? [];
    const taken = sets.find((other) =>
      set.timepoint === 'baseline'
        ? other.timepoint === 'baseline'
        : other.timepoint === 'follow-up' && other.takenOn === set.takenOn && other.id === set.id,
    );
    if (taken) return { added: false, existing: structuredClone(taken) };
    this.sets.set(set.referralId, [...sets, structuredClone(set)]);
    return { added: true };
  }

  async list(referralId: string): Promise<MeasureSetRecord[]> {
    const order = (set: MeasureSetRecord): string =>
      set.timepoint === 'baseline' ? '0' : `1#${set.takenOn}#${set.id}`;
    return [...(this.sets.get(referralId) ?? [])]
      .sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0))
      .map((set) => structuredClone(set));
  }
}
