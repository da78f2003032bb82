import { describe, expect, it } from 'vitest';
import {
  ageRangeText,
  assessCandidate,
  candidateChecks,
  type RuledOutRule,
} from '#matching/domain/candidate-rules.ts';
import { coveredBy } from '#matching/domain/area.ts';
import { compareRanked, rank, whyAbove, type Ranked } from '#matching/domain/ranking.ts';
import { decideNeed, unmetReasonOf } from '#matching/domain/need-decision.ts';
import type { Service } from '#directory/domain/directory.ts';
import type { CoverageLevel } from '#referral/domain/referral.ts';
import { candidate, context, leedsArea } from './routing-support.ts';

describe('candidate rules, one at a time', () => {
  const cases: Array<{
    name: string;
    made: ReturnType<typeof candidate>;
    with?: Parameters<typeof context>[0];
    rule: RuledOutRule | 'fits';
    reason?: RegExp;
  }> = [
    { name: 'an open service for everyone', made: candidate('s', 'p'), rule: 'fits' },
    {
      name: 'a retired service',
      made: candidate('s', 'p', { status: 'retired' }),
      rule: 'service-retired',
      reason: /Service s is retired/,
    },
    {
      name: 'a retired partner',
      made: candidate('s', 'p', {}, { status: 'retired' }),
      rule: 'partner-retired',
    },
    {
      name: 'younger than the minimum age',
      made: candidate('s', 'p', { eligibility: { minimumAge: 50 } }),
      rule: 'below-minimum-age',
      reason: /^Service s is for people aged 50 and over; the patient is younger$/,
    },
    {
      name: 'exactly the minimum age',
      made: candidate('s', 'p', { eligibility: { minimumAge: 40 } }),
      rule: 'fits',
    },
    {
      name: 'older than the maximum age',
      made: candidate('s', 'p', { eligibility: { minimumAge: 11, maximumAge: 25 } }),
      rule: 'above-maximum-age',
      reason: /^Service s is for people aged 11 to 25; the patient is older$/,
    },
    {
      name: 'exactly the maximum age',
      made: candidate('s', 'p', { eligibility: { maximumAge: 40 } }),
      rule: 'fits',
    },
    {
      name: 'no birth date: an age range cannot rule it out',
      made: candidate('s', 'p', { eligibility: { minimumAge: 65 } }),
      with: { age: undefined },
      rule: 'fits',
    },
    {
      name: 'paused',
      made: candidate('s', 'p', { capacity: { state: 'paused' } }),
      rule: 'paused',
      reason: /has paused new referrals/,
    },
    { name: 'full', made: candidate('s', 'p', { capacity: { state: 'full' } }), rule: 'full' },
    {
      name: 'weekly limit reached',
      made: candidate('s', 'p', { capacity: { state: 'open', weeklyLimit: 3 } }),
      with: { weeklyMatches: { s: 3 } },
      rule: 'weekly-limit-reached',
      reason: /takes 3 referral\(s\) a week and has been matched 3 this week/,
    },
    {
      name: 'one place left this week',
      made: candidate('s', 'p', { capacity: { state: 'open', weeklyLimit: 3 } }),
      with: { weeklyMatches: { s: 2 } },
      rule: 'fits',
    },
    {
      name: 'a weekly limit, nothing counted yet',
      made: candidate('s', 'p', { capacity: { state: 'open', weeklyLimit: 1 } }),
      rule: 'fits',
    },
    {
      name: 'no consent and no signposting taken',
      made: candidate('s', 'p', { acceptsSignposting: false }),
      with: { consent: [] },
      rule: 'no-consent',
      reason: /needs the patient's details, and the patient has not consented to share them with Partner p/,
    },
    {
      name: 'a specific refusal beats any-vcse',
      made: candidate('s', 'p', { acceptsSignposting: false }),
      with: {
        consent: [
          { recipient: 'any-vcse', granted: true },
          { recipient: 'p', granted: false },
        ],
      },
      rule: 'no-consent',
    },
    {
      name: 'no consent, but signposting is taken',
      made: candidate('s', 'p'),
      with: { consent: [] },
      rule: 'fits',
    },
    {
      name: 'consent for this partner, no signposting taken',
      made: candidate('s', 'p', { acceptsSignposting: false }),
      with: { consent: [{ recipient: 'p', granted: true }] },
      rule: 'fits',
    },
    {
      name: 'the first rule broken is the one recorded: too old AND full AND no consent',
      made: candidate('s', 'p', {
        eligibility: { maximumAge: 30 },
        capacity: { state: 'full' },
        acceptsSignposting: false,
      }),
      with: { consent: [] },
      rule: 'above-maximum-age',
    },
    {
      name: 'capacity before consent: full AND no consent is full',
      made: candidate('s', 'p', { capacity: { state: 'full' }, acceptsSignposting: false }),
      with: { consent: [] },
      rule: 'full',
    },
  ];

  it.each(cases)('$name: $rule', ({ made, with: overrides, rule, reason }) => {
    const assessment = assessCandidate(made, context(overrides));
    if (!assessment) throw new Error('expected an assessment');
    if (rule === 'fits') {
      expect(assessment.fits).toBe(true);
      return;
    }
    expect(assessment).toMatchObject({ fits: false, rule });
    if (reason && !assessment.fits) expect(assessment.reason).toMatch(reason);
  });

  it('every rule has a case above that breaks it', () => {
    const broken = new Set(cases.map((c) => c.rule));
    for (const { rule } of candidateChecks) expect(broken).toContain(rule);
  });

  it('a fitting candidate without consent gets signposting, with consent identifiable', () => {
    expect(assessCandidate(candidate('s', 'p'), context({ consent: [] }))).toMatchObject({
      fits: true,
      content: 'signposting',
    });
    expect(assessCandidate(candidate('s', 'p'), context())).toMatchObject({
      fits: true,
      content: 'identifiable',
    });
  });

  it('an age range not checked for want of a birth date is said so', () => {
    const assessment = assessCandidate(
      candidate('s', 'p', { eligibility: { minimumAge: 65 } }),
      context({ age: undefined }),
    );
    expect(assessment).toMatchObject({
      fits: true,
      note: 'its age range (aged 65 and over) was not checked: the referral has no birth date',
    });
  });

  it('the sentences never state the age itself', () => {
    const assessment = assessCandidate(
      candidate('s', 'p', { eligibility: { maximumAge: 25 } }),
      context({ age: 47 }),
    );
    expect(JSON.stringify(assessment)).not.toContain('47');
  });

  it('ageRangeText', () => {
    expect(ageRangeText({ minimumAge: 11, maximumAge: 25 })).toBe('aged 11 to 25');
    expect(ageRangeText({ minimumAge: 18 })).toBe('aged 18 and over');
    expect(ageRangeText({ maximumAge: 25 })).toBe('aged up to 25');
    expect(ageRangeText({})).toBeUndefined();
  });
});

describe('coverage: the narrowest level that reaches the patient', () => {
  it.each<[Partial<Service['coverage']>, CoverageLevel | undefined]>([
    [{ lsoas: ['E01011331'], districts: ['LS6'] }, 'lsoa'],
    [{ districts: ['LS6'], localAuthorities: ['E08000035'] }, 'district'],
    [{ districts: [], localAuthorities: ['E08000035'] }, 'local-authority'],
    [{ districts: ['LS2'], lsoas: ['E01011332'], localAuthorities: ['E06000009'] }, undefined],
  ])('%j -> %s', (coverage, level) => {
    expect(coveredBy(candidate('s', 'p', { coverage }).service, leedsArea())).toBe(level);
  });

  it('without an LSOA or local authority only the district counts', () => {
    const area = leedsArea({ postcodeStatus: 'not-found', imd: null });
    delete area.lsoa;
    delete area.localAuthority;
    const service = candidate('s', 'p', { coverage: { districts: [], lsoas: ['E01011331'] } }).service;
    expect(coveredBy(service, area)).toBeUndefined();
  });

  it('a candidate that does not reach the area is not assessed (an index entry that no longer matches)', () => {
    expect(
      assessCandidate(candidate('s', 'p', { coverage: { districts: ['LS2'] } }), context()),
    ).toBeUndefined();
  });
});

describe('ranking the services that fit', () => {
  const fitOf = (made: ReturnType<typeof candidate>, partnerChosen = false): Ranked => {
    const fit = assessCandidate(made, context());
    if (!fit?.fits) throw new Error('expected a fit');
    return { fit, partnerChosen };
  };
  const lsoa = { coverage: { lsoas: ['E01011331'], districts: [] } };
  const district = { coverage: { districts: ['LS6'] } };
  const wholeLa = { coverage: { districts: [], localAuthorities: ['E08000035'] } };
  const record = (answered: number, accepted: number, medianResponseHours?: number) => ({
    responseRecord: {
      answered,
      accepted,
      ...(medianResponseHours === undefined ? {} : { medianResponseHours }),
    },
  });

  it.each([
    {
      name: 'the LSOA before the district',
      better: fitOf(candidate('z', 'p1', lsoa)),
      worse: fitOf(candidate('a', 'p2', district)),
      why: "it covers the patient's LSOA, this covers the postcode district",
    },
    {
      name: 'the district before the local authority',
      better: fitOf(candidate('z', 'p1', district)),
      worse: fitOf(candidate('a', 'p2', wholeLa)),
      why: 'it covers the postcode district, this covers the whole local authority',
    },
    {
      name: 'narrower coverage beats a partner already chosen',
      better: fitOf(candidate('z', 'p1', lsoa)),
      worse: fitOf(candidate('a', 'p2', district), true),
      why: "it covers the patient's LSOA, this covers the postcode district",
    },
    {
      name: 'a partner already chosen, at the same coverage',
      better: fitOf(candidate('z', 'p1'), true),
      worse: fitOf(candidate('a', 'p2', {}, record(100, 100, 1))),
      why: 'its partner Partner p1 is already chosen for another need, so the patient hears from fewer organisations',
    },
    {
      name: 'a higher acceptance rate',
      better: fitOf(candidate('z', 'p1', {}, record(10, 9, 100))),
      worse: fitOf(candidate('a', 'p2', {}, record(10, 8, 1))),
      why: 'its partner accepts more referrals (90% against 80%)',
    },
    {
      name: 'any record before none',
      better: fitOf(candidate('z', 'p1', {}, record(10, 1))),
      worse: fitOf(candidate('a', 'p2')),
      why: "its partner has accepted 10% of referrals; this one's has no record yet",
    },
    {
      name: 'a record with no answers yet counts as none for the rate',
      better: fitOf(candidate('z', 'p1', {}, record(0, 0, 5))),
      worse: fitOf(candidate('a', 'p2', {}, record(0, 0, 50))),
      why: 'its partner answers sooner (median 5 hours against 50)',
    },
    {
      name: 'the same rate (9/10 and 18/20): the shorter median answer',
      better: fitOf(candidate('z', 'p1', {}, record(20, 18, 12))),
      worse: fitOf(candidate('a', 'p2', {}, record(10, 9, 48))),
      why: 'its partner answers sooner (median 12 hours against 48)',
    },
    {
      name: 'a known median before an unknown one',
      better: fitOf(candidate('z', 'p1', {}, record(10, 9, 48))),
      worse: fitOf(candidate('a', 'p2', {}, record(10, 9))),
      why: "its partner answers in a median 48 hours; this one's has no record yet",
    },
    {
      name: 'equal in every way: the lower service id',
      better: fitOf(candidate('svc-a', 'p1')),
      worse: fitOf(candidate('svc-b', 'p2')),
      why: 'they fit equally, and the lower service id goes first',
    },
    {
      name: 'ids compare by code point, not by locale (a hyphen is not ignored)',
      better: fitOf(candidate('svc-a-b', 'p1')),
      worse: fitOf(candidate('svc-ab', 'p2')),
      why: 'they fit equally, and the lower service id goes first',
    },
  ])('$name', ({ better, worse, why }) => {
    expect(compareRanked(better, worse)).toBeLessThan(0);
    expect(compareRanked(worse, better)).toBeGreaterThan(0);
    expect(rank([worse, better]).map((r) => r.fit.candidate.service.id)).toEqual([
      better.fit.candidate.service.id,
      worse.fit.candidate.service.id,
    ]);
    expect(whyAbove(better, worse)).toBe(why);
  });
});

describe('unmet reasons: the candidate that came closest says why', () => {
  it.each([
    [[], 'no-service'],
    [['service-retired'], 'no-service'],
    [['below-minimum-age', 'above-maximum-age'], 'none-eligible'],
    [['paused', 'full', 'weekly-limit-reached'], 'all-full-or-paused'],
    [['above-maximum-age', 'full'], 'all-full-or-paused'],
    [['no-consent'], 'no-consent'],
    [['full', 'no-consent', 'below-minimum-age'], 'no-consent'],
  ] as const)('%j -> %s', (rules, reason) => {
    expect(unmetReasonOf(rules.map((rule) => ({ rule })))).toBe(reason);
  });
});

describe('decideNeed', () => {
  const none = new Set<string>();

  it('chooses the best fit and lists every candidate: chosen, then the other fits by rank, then those ruled out', () => {
    const outcome = decideNeed({
      category: 'arts',
      candidates: [
        candidate('svc-full', 'p4', { capacity: { state: 'full' } }),
        candidate('svc-district', 'p2'),
        candidate('svc-lsoa', 'p1', { coverage: { districts: [], lsoas: ['E01011331'] } }),
        candidate('svc-old', 'p3', { eligibility: { maximumAge: 25 } }),
        candidate('svc-la', 'p5', { coverage: { districts: [], localAuthorities: ['E08000035'] } }),
      ],
      context: context(),
      chosenPartners: none,
    });
    expect(outcome.unmet).toBeUndefined();
    expect(outcome.match).toMatchObject({
      category: 'arts',
      serviceId: 'svc-lsoa',
      partnerId: 'p1',
      coveredBy: 'lsoa',
      content: 'identifiable',
    });
    expect(outcome.decision.outcome).toBe('matched');
    expect(outcome.decision.candidates.map((c) => [c.serviceId, c.verdict, c.rule, c.coveredBy])).toEqual([
      ['svc-lsoa', 'chosen', 'chosen', 'lsoa'],
      ['svc-district', 'eligible', 'ranked-lower', 'district'],
      ['svc-la', 'eligible', 'ranked-lower', 'local-authority'],
      ['svc-full', 'ruled-out', 'full', 'district'],
      ['svc-old', 'ruled-out', 'above-maximum-age', 'district'],
    ]);
    expect(outcome.decision.candidates[0]?.reason).toBe(
      "Service svc-lsoa covers the patient's LSOA (E01011331), admits the patient and is taking referrals; " +
        'ranked first of 3 services that fit; the patient consented to share their details with Partner p1',
    );
    expect(outcome.decision.candidates[1]?.reason).toBe(
      "Service svc-district fits too, but Service svc-lsoa ranks above it: it covers the patient's LSOA, this " +
        'covers the postcode district',
    );
  });

  it('without consent the chosen service is signposting only, and says so', () => {
    const outcome = decideNeed({
      category: 'arts',
      candidates: [candidate('svc-a', 'p1')],
      context: context({ consent: [] }),
      chosenPartners: none,
    });
    expect(outcome.match?.content).toBe('signposting');
    expect(outcome.match?.reason).toMatch(
      /signposting only: the patient has not consented to share their details with Partner p1$/,
    );
  });

  it('unmet: with the reason code, the sentence, area, LSOA and IMD decile', () => {
    const outcome = decideNeed({
      category: 'arts',
      candidates: [
        candidate('svc-a', 'p1', { capacity: { state: 'paused' } }),
        candidate('svc-b', 'p2', { capacity: { state: 'full' } }),
      ],
      context: context(),
      chosenPartners: none,
    });
    expect(outcome.match).toBeUndefined();
    const reason =
      '2 service(s) offer arts in LS6 (LSOA E01011331, local authority E08000035), but none is taking referrals ' +
      'now (1 paused, 1 full)';
    expect(outcome.decision).toMatchObject({
      outcome: 'unmet',
      unmet: { code: 'all-full-or-paused', reason },
    });
    expect(outcome.unmet).toEqual({
      category: 'arts',
      area: 'LS6',
      reason,
      code: 'all-full-or-paused',
      lsoa: { code: 'E01011331', vintage: '2011' },
      imd: { edition: '2019', rank: 8000, decile: 3 },
    });
  });

  it('no candidates at all: no-service', () => {
    const outcome = decideNeed({
      category: 'food',
      candidates: [],
      context: context(),
      chosenPartners: none,
    });
    expect(outcome.unmet).toMatchObject({
      code: 'no-service',
      reason: 'no service in the directory offers food in LS6 (LSOA E01011331, local authority E08000035)',
    });
    expect(outcome.decision.candidates).toEqual([]);
  });

  it('the only fitting service needs consent the patient did not give: no-consent', () => {
    const outcome = decideNeed({
      category: 'befriending',
      candidates: [
        candidate('svc-visits', 'p1', { acceptsSignposting: false }),
        candidate('svc-young', 'p2', { eligibility: { maximumAge: 25 } }),
      ],
      context: context({ consent: [] }),
      chosenPartners: none,
    });
    expect(outcome.unmet?.code).toBe('no-consent');
  });

  it('a service the index lists twice (an LSOA and its district) is one candidate, the newest version', () => {
    const older = candidate('svc-a', 'p1', { version: 1, name: 'Old name' });
    const newer = candidate('svc-a', 'p1', { version: 2, name: 'New name' });
    const outcome = decideNeed({
      category: 'arts',
      candidates: [newer, older],
      context: context(),
      chosenPartners: none,
    });
    expect(outcome.decision.candidates).toHaveLength(1);
    expect(outcome.match?.serviceName).toBe('New name');
  });
});
