import type { DirectorySnapshot, Partner, Service } from '#directory/domain/directory.ts';
import { Service as ServiceSchema } from '#directory/domain/directory.ts';
import { candidateOf, type ServiceCandidate } from '#directory/domain/coverage.ts';
import {
  decileFromRank,
  rankedAreasOf,
  type Deprivation,
  type PostcodeLocation,
} from '#geography/domain/geography.ts';
import { interventionCategories, type InterventionCategory } from '#referral/domain/categories.ts';

/**
 * A synthetic national-size directory for the routing bench: services spread over England-like postcode districts
 * (real postcode area letters, invented numbers), several per category in each district, some covering named LSOAs
 * and some a whole local authority; capacity, age ranges, signposting and response records varied. The density per
 * area is the same at every size, so a larger directory has more areas, as a national one would, not more services
 * per area. Deterministic for a size (a seeded generator), every code invented.
 */

/** England's postcode areas (letters only; the numbers below are invented). */
const postcodeAreas = (
  'AL B BA BB BD BH BL BN BR BS CA CB CH CM CO CR CT CV CW DA DE DH DL DN DT DY E EC EN EX FY GL GU HA HD HG HP HR ' +
  'HU HX IG IP KT L LA LE LN LS LU M ME MK N NE NG NN NR NW OL OX PE PL PO PR RG RH RM S SE SG SK SL SM SN SO SP SR ' +
  'SS ST SW TA TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO'
).split(' ');

const districtsPerArea = 20;
/** Districts per local authority (each postcode area is two local authorities). */
const districtsPerAuthority = 6;
const lsoasPerDistrict = 3;
/** Services per category per district: 3 to 5 (4 on average), so 44 per district. */
const servicesPerCategory = [3, 4, 5] as const;
const servicesPerPartner = 5;

/** A small deterministic generator (mulberry32). */
export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BenchDistrict {
  district: string;
  localAuthority: string;
  lsoas: string[];
  /** One postcode per LSOA. */
  postcodes: string[];
  practiceOds: string;
}

export interface BenchDirectory {
  size: number;
  snapshot: DirectorySnapshot;
  districts: BenchDistrict[];
  locations: PostcodeLocation[];
  deprivation: Deprivation[];
  /** The coverage index as the DynamoDB table holds it: `<category>|<D|L|A>:<area>` -> candidates. */
  index: Map<string, ServiceCandidate[]>;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const inwardCodes = ['1AA', '2AB', '3AD', '4AE', '5AF', '6AG'];

export function districtsFor(count: number): BenchDistrict[] {
  if (count > postcodeAreas.length * districtsPerArea)
    throw new Error(`at most ${postcodeAreas.length * districtsPerArea} districts`);
  return Array.from({ length: count }, (_, i) => {
    const area = postcodeAreas[Math.floor(i / districtsPerArea)] ?? 'ZZ';
    const district = `${area}${(i % districtsPerArea) + 1}`;
    const lsoas = Array.from(
      { length: lsoasPerDistrict },
      (_, j) => `E01${pad(100_000 + i * lsoasPerDistrict + j, 6)}`,
    );
    return {
      district,
      localAuthority: `E08${pad(Math.floor(i / districtsPerAuthority) + 1, 6)}`,
      lsoas,
      postcodes: lsoas.map((_, j) => `${district} ${inwardCodes[j] ?? '9ZZ'}`),
      // One practice per district (ODS: letter + 5 digits), one PCN per local authority.
      practiceOds: `Z${pad(i + 1, 5)}`,
    };
  });
}

/** Districts enough for `count` services at 3 to 5 per category (with room for a low draw). */
const districtsNeeded = (count: number): number =>
  Math.ceil((count * 1.4) / (interventionCategories.length * 4)) + 2;

export function benchDirectory(size: number, seed = 8): BenchDirectory {
  const random = seeded(seed * 1_000_003 + size);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const all = districtsFor(districtsNeeded(size));
  let used = 0;

  const partners: Partner[] = [];
  const serviceList: Service[] = [];
  let partner: Partner | undefined;
  outer: for (const d of all) {
    used++;
    for (const category of interventionCategories) {
      const count = pick(servicesPerCategory);
      for (let k = 0; k < count; k++) {
        if (serviceList.length >= size) break outer;
        if (!partner || serviceList.length % servicesPerPartner === 0) {
          const id = `bench-partner-${pad(partners.length + 1, 6)}`;
          const answered = Math.floor(random() * 200);
          partner = {
            id,
            name: `Bench partner ${partners.length + 1}`,
            identifiers: {},
            channel: { kind: 'webhook', url: `http://127.0.0.1:9/hooks/partner/${id}` },
            status: 'active',
            version: 1,
            ...(random() < 0.7
              ? {
                  responseRecord: {
                    answered,
                    accepted: Math.floor(answered * random()),
                    medianResponseHours: 1 + Math.floor(random() * 120),
                  },
                }
              : {}),
          };
          partners.push(partner);
        }
        const shape = random();
        const coverage =
          shape < 0.8
            ? { districts: [d.district] }
            : shape < 0.9
              ? { lsoas: d.lsoas.slice(0, 1 + Math.floor(random() * d.lsoas.length)) }
              : { localAuthorities: [d.localAuthority] };
        const capacity = random();
        const aged = random();
        serviceList.push(
          ServiceSchema.parse({
            id: `bench-svc-${pad(serviceList.length + 1, 6)}`,
            partnerId: partner.id,
            name: `Bench ${category} ${serviceList.length + 1}`,
            categories: [category],
            coverage,
            capacity:
              capacity < 0.8
                ? { state: 'open' }
                : capacity < 0.88
                  ? { state: 'paused' }
                  : capacity < 0.95
                    ? { state: 'full' }
                    : { state: 'open', weeklyLimit: 50 },
            eligibility:
              aged < 0.1 ? { minimumAge: 18 } : aged < 0.2 ? { minimumAge: 11, maximumAge: 25 } : {},
            acceptsSignposting: random() < 0.9,
          }),
        );
      }
    }
  }

  // Only the districts that have services: referrals are made in those.
  const districts = all.slice(0, used);
  const pcns = [...new Set(districts.map((d) => d.localAuthority))].map((la, i) => ({
    code: `U${pad(i + 1, 5)}`,
    name: `Bench PCN ${i + 1}`,
    icb: 'Bench ICB',
    la,
  }));
  const pcnOf = new Map(pcns.map((p) => [p.la, p.code]));
  const snapshot: DirectorySnapshot = {
    pcns: pcns.map(({ la: _la, ...pcn }) => pcn),
    practices: districts.map((d) => ({
      ods: d.practiceOds,
      name: `Bench practice ${d.district}`,
      pcn: pcnOf.get(d.localAuthority) ?? 'U00000',
      area: d.district,
    })),
    teams: pcns.map((p, i) => ({
      id: `bench-team-${pad(i + 1, 5)}`,
      name: `Bench team ${i + 1}`,
      pcn: p.code,
      channel: { kind: 'webhook', url: `http://127.0.0.1:9/hooks/team/bench-team-${i + 1}` },
      status: 'active',
      version: 1,
    })),
    partners,
    services: serviceList,
  };

  const locations: PostcodeLocation[] = districts.flatMap((d) =>
    d.postcodes.map((postcode, j) => ({
      postcode,
      district: d.district,
      lsoa21: d.lsoas[j] ?? '',
      localAuthority: d.localAuthority,
      country: 'E92000001',
      terminated: false,
    })),
  );
  const deprivation: Deprivation[] = districts.flatMap((d) =>
    d.lsoas.map((lsoa) => {
      const rank = 1 + Math.floor(random() * rankedAreasOf['2019']);
      return { edition: '2019' as const, lsoa, rank, decile: decileFromRank(rank, rankedAreasOf['2019']) };
    }),
  );

  const partnerById = new Map(partners.map((p) => [p.id, p]));
  const index = new Map<string, ServiceCandidate[]>();
  const list = (key: string, candidate: ServiceCandidate) =>
    index.set(key, [...(index.get(key) ?? []), candidate]);
  for (const service of serviceList) {
    const owner = partnerById.get(service.partnerId);
    if (!owner) throw new Error(`no partner ${service.partnerId}`);
    const candidate = candidateOf(service, owner);
    for (const category of service.categories) {
      for (const district of service.coverage.districts) list(`${category}|D:${district}`, candidate);
      for (const lsoa of service.coverage.lsoas) list(`${category}|L:${lsoa}`, candidate);
      for (const la of service.coverage.localAuthorities) list(`${category}|A:${la}`, candidate);
    }
  }
  return { size, snapshot, districts, locations, deprivation, index };
}

/** What the coverage index answers for a need in an area (as DynamoDirectory.servicesCovering does, from memory). */
export function indexedCandidates(
  index: Map<string, ServiceCandidate[]>,
  category: InterventionCategory,
  area: { district: string; lsoa?: string; localAuthority?: string },
): ServiceCandidate[] {
  const keys = [
    `${category}|D:${area.district}`,
    ...(area.lsoa ? [`${category}|L:${area.lsoa}`] : []),
    ...(area.localAuthority ? [`${category}|A:${area.localAuthority}`] : []),
  ];
  const byId = new Map<string, ServiceCandidate>();
  for (const key of keys) for (const c of index.get(key) ?? []) byId.set(c.service.id, c);
  return [...byId.values()];
}
