import { Service, type Partner } from '#directory/domain/directory.ts';
import type { ServiceCandidate } from '#directory/domain/coverage.ts';
import type { InterventionCategory } from '#referral/domain/categories.ts';
import type { AreaClassification } from '#referral/domain/referral.ts';
import type { CandidateContext } from '#matching/domain/candidate-rules.ts';

/** Hand-built candidates and areas for the matching tests. */

/** An area in Leeds, found by postcode: LSOA E01011331, district LS6, local authority E08000035, IMD 2019 decile 3. */
export const leedsArea = (overrides: Partial<AreaClassification> = {}): AreaClassification => ({
  source: 'patient-postcode',
  postcodeStatus: 'found',
  district: 'LS6',
  lsoa: { code: 'E01011331', vintage: '2011' },
  localAuthority: 'E08000035',
  imdEdition: '2019',
  lsoaVintage: '2011',
  imd: { edition: '2019', rank: 8000, decile: 3 },
  ...overrides,
});

type ServiceInput = Partial<Omit<Service, 'coverage'>> & { coverage?: Partial<Service['coverage']> };

export function candidate(
  id: string,
  partnerId: string,
  service: ServiceInput = {},
  partner: Partial<Pick<Partner, 'name' | 'status' | 'responseRecord'>> = {},
  categories: InterventionCategory[] = ['arts'],
): ServiceCandidate {
  const { coverage, ...rest } = service;
  return {
    service: Service.parse({
      id,
      partnerId,
      name: `Service ${id}`,
      categories,
      coverage: { districts: ['LS6'], ...coverage },
      ...rest,
    }),
    partner: { id: partnerId, name: `Partner ${partnerId}`, status: 'active', ...partner },
  };
}

export const context = (overrides: Partial<CandidateContext> = {}): CandidateContext => ({
  area: leedsArea(),
  age: 40,
  consent: [{ recipient: 'any-vcse', granted: true }],
  weeklyMatches: {},
  ...overrides,
});
