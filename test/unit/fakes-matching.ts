import type { Deprivation, ImdEdition, PostcodeLocation } from '#geography/domain/geography.ts';
import type { Geography } from '#geography/ports.ts';
import { weeklyMatchCount, type ServiceLoad } from '#matching/ports.ts';
import type { InMemoryMetricCounters } from './fakes.ts';

/** Fakes for the router's matching inputs: a geography answered from a list, weekly loads from the counters. */

const compact = (postcode: string): string => postcode.replace(/\s+/g, '').toUpperCase();

/** Postcodes and IMD ranks given by the test; counts its lookups as the DynamoDB adapter's GetItems would be. */
export class ListedGeography implements Geography {
  readonly calls = { locate: 0, deprivation: 0 };
  private readonly locations: Map<string, PostcodeLocation>;
  private readonly ranks: Map<string, Deprivation>;

  constructor(locations: PostcodeLocation[] = [], ranks: Deprivation[] = []) {
    this.locations = new Map(locations.map((l) => [compact(l.postcode), l]));
    this.ranks = new Map(ranks.map((d) => [`${d.lsoa}|${d.edition}`, d]));
  }

  async locate(postcode: string): Promise<PostcodeLocation | undefined> {
    this.calls.locate++;
    const found = this.locations.get(compact(postcode));
    return found && structuredClone(found);
  }

  async deprivation(lsoa: string, edition: ImdEdition): Promise<Deprivation | undefined> {
    this.calls.deprivation++;
    const found = this.ranks.get(`${lsoa}|${edition}`);
    return found && structuredClone(found);
  }
}

/** Weekly match counts read from the in-memory counters the router counts them in (as DynamoServiceLoad does). */
export class CountedServiceLoad implements ServiceLoad {
  readonly reads: Array<{ serviceIds: string[]; week: string }> = [];

  constructor(private readonly counters: InMemoryMetricCounters) {}

  async matchedInWeek(serviceIds: readonly string[], week: string): Promise<Record<string, number>> {
    this.reads.push({ serviceIds: [...serviceIds], week });
    return Object.fromEntries(
      serviceIds.map((id) => {
        const { name, dimensions } = weeklyMatchCount(id);
        return [id, this.counters.value(name, dimensions, week)];
      }),
    );
  }
}
