import type { Deprivation, ImdEdition, PostcodeLocation } from '#geography/domain/geography.ts';
import { InMemoryGeography } from './fakes-geography.ts';
import { weeklyMatchCount, type ServiceLoad } from '#matching/ports.ts';
import type { InMemoryMetricCounters } from './fakes.ts';
import { InMemoryFigures } from './fakes-figures.ts';

/** Fakes for the router's matching inputs: a geography answered from a list, weekly loads from the counters. */

/**
 * Postcodes and IMD ranks given by the test, answered by the contract-tested in-memory geography
 * (test/contract/geography.contract.ts); counts its lookups as the DynamoDB adapter's GetItems would be.
 */
export class ListedGeography extends InMemoryGeography {
  readonly calls = { locate: 0, deprivation: 0 };

  constructor(locations: PostcodeLocation[] = [], ranks: Deprivation[] = []) {
    super();
    for (const location of locations)
      this.locations.set(location.postcode.replace(/\s+/g, '').toUpperCase(), structuredClone(location));
    for (const rank of ranks) this.deprivations.set(`${rank.lsoa}|${rank.edition}`, { ...rank });
  }

  override async locate(postcode: string): Promise<PostcodeLocation | undefined> {
    this.calls.locate++;
    return super.locate(postcode);
  }

  override async deprivation(lsoa: string, edition: ImdEdition): Promise<Deprivation | undefined> {
    this.calls.deprivation++;
    return super.deprivation(lsoa, edition);
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

/**
 * The router's matching inputs for a test about something else: no postcode in the geography (matching uses the
 * postcode's district), weekly loads read from the counters the router counts in, and figures to count in.
 */
export function plainMatchingInputs(counters: InMemoryMetricCounters): {
  geography: ListedGeography;
  serviceLoad: CountedServiceLoad;
  figures: InMemoryFigures;
} {
  return {
    geography: new ListedGeography(),
    serviceLoad: new CountedServiceLoad(counters),
    figures: new InMemoryFigures(),
  };
}
