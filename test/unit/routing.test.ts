import { describe, expect, it } from 'vitest';
import type { InterventionCategory } from '#referral/domain/categories.ts';
import { Service, type DirectorySnapshot } from '#directory/domain/directory.ts';
import type { Deprivation, PostcodeLocation } from '#geography/domain/geography.ts';
import type { Referral } from '#referral/domain/referral.ts';
import {
  decideRouting,
  deliveryIdFor,
  extendRouting,
  uncoveredNeeds,
  type RoutingInput,
  type ServiceCandidate,
} from '#matching/domain/routing.ts';
import { areaKeysOf, classifyArea, lsoaOf } from '#matching/domain/area.ts';
import { candidatesIn } from './fakes.ts';
import { referralIds, sampleDirectory, sampleReferral, type SampleName } from './fixtures.ts';

const decidedAt = '2025-03-04T09:20:00.000Z';

/** What the geography knows in these tests: one Leeds postcode, in an LSOA the sample pantry covers. */
const leedsPostcode: PostcodeLocation = {
  postcode: 'LS6 1AA',
  district: 'LS6',
  lsoa11: 'E01011331',
  lsoa21: 'E01011331',
  localAuthority: 'E08000035',
  country: 'E92000001',
  terminated: false,
};
const leedsDeprivation: Deprivation = { edition: '2019', lsoa: 'E01011331', rank: 1200, decile: 1 };

/**
 * The routing input the router would build from the directory for this referral; `geography` says whether the
 * patient's postcode is found (without it, only the postcode's district is known, as for an unknown postcode).
 */
function inputFor(
  referral: Referral,
  directory: DirectorySnapshot = sampleDirectory(),
  geography: { location?: PostcodeLocation; deprivation?: Deprivation } = {},
): RoutingInput {
  const practice = directory.practices.find((p) => p.ods === referral.practiceOds);
  if (!practice) throw new Error(`no practice ${referral.practiceOds}`);
  const { location, deprivation } = geography;
  const lsoa = location && lsoaOf(location, '2019');
  const area = classifyArea({
    postcode: referral.patient.postcode,
    practice,
    location,
    deprivation: lsoa && deprivation?.lsoa === lsoa.code ? deprivation : undefined,
    edition: '2019',
  });
  const candidates: Partial<Record<InterventionCategory, ServiceCandidate[]>> = {};
  for (const need of referral.needs) candidates[need] = candidatesIn(directory, need, areaKeysOf(area));
  return {
    referral,
    practice,
    team: directory.teams.find((t) => t.pcn === practice.pcn),
    area,
    candidates,
    decidedAt,
  };
}

const decisionFor = (name: SampleName, overrides: Partial<Referral> = {}) =>
  decideRouting(inputFor(sampleReferral(name, overrides)));

function service(
  id: string,
  partnerId: string,
  categories: InterventionCategory[],
  extra: Partial<Service> = {},
) {
  return {
    service: Service.parse({
      id,
      partnerId,
      name: `Service ${id}`,
      categories,
      coverage: { districts: ['LS6'] },
      ...extra,
    }),
    partner: { id: partnerId, name: `Partner ${partnerId}`, status: 'active' as const },
  };
}

describe('the area a referral is matched in', () => {
  it("uses the patient's postcode district when there is a postcode, even one the geography does not know", () => {
    const referral = sampleReferral('leeds-arts-and-mental-health');
    referral.patient.postcode = 'LS2 9JT';
    const decision = decideRouting(inputFor(referral));
    expect(decision).toMatchObject({ area: 'LS2', areaSource: 'patient-postcode' });
    expect(decision.classification).toMatchObject({
      postcodeStatus: 'not-found',
      district: 'LS2',
      imd: null,
    });
  });

  it("falls back to the practice's area without one", () => {
    const referral = sampleReferral('leeds-arts-and-mental-health');
    delete referral.patient.postcode;
    const decision = decideRouting(inputFor(referral));
    expect(decision).toMatchObject({ area: 'LS6', areaSource: 'practice' });
    expect(decision.classification).toEqual({
      source: 'practice',
      postcodeStatus: 'none',
      district: 'LS6',
      imdEdition: '2019',
      lsoaVintage: '2011',
      imd: null,
    });
  });
});

describe('decideRouting on the sample directory', () => {
  it('Leeds: team with reason, one open service per need, no unmet needs', () => {
    const decision = decisionFor('leeds-arts-and-mental-health');
    const id = referralIds['leeds-arts-and-mental-health'];
    expect(decision.decidedAt).toBe(decidedAt);
    expect(decision.area).toBe('LS6');
    expect(decision.areaSource).toBe('patient-postcode');
    expect(decision.team).toEqual({ id: 'lw-woodhouse', name: 'Woodhouse link workers' });
    expect(decision.teamReason).toBe(
      'Woodhouse link workers is the link-worker team of PCN U00001, which Woodhouse Medical Practice (A81001) belongs to',
    );
    expect(decision.matches).toEqual([
      {
        category: 'arts',
        serviceId: 'svc-arts-studio',
        serviceName: 'Open Studio Mornings',
        partnerId: 'arts-for-all',
        partnerName: 'Arts for All Leeds',
        reason:
          'Open Studio Mornings covers postcode district LS6, admits the patient and is taking referrals; the ' +
          'patient consented to share their details with Arts for All Leeds',
        coveredBy: 'district',
        content: 'identifiable',
      },
      {
        category: 'mental-health',
        serviceId: 'svc-mind-groups',
        serviceName: 'Wellbeing Groups',
        partnerId: 'mind-matters',
        partnerName: 'Mind Matters Yorkshire',
        reason:
          'Wellbeing Groups covers postcode district LS6, admits the patient and is taking referrals; the ' +
          'patient consented to share their details with Mind Matters Yorkshire',
        coveredBy: 'district',
        content: 'identifiable',
      },
    ]);
    expect(decision.unmetNeeds).toEqual([]);
    expect(decision.noTeam).toBeUndefined();
    expect(decision.deliveries).toEqual([
      {
        deliveryId: `${id}.team.lw-woodhouse`,
        recipient: { kind: 'team', id: 'lw-woodhouse', name: 'Woodhouse link workers' },
        categories: ['arts', 'mental-health'],
        content: 'identifiable',
      },
      {
        deliveryId: `${id}.partner.arts-for-all`,
        recipient: { kind: 'partner', id: 'arts-for-all', name: 'Arts for All Leeds' },
        categories: ['arts'],
        content: 'identifiable',
      },
      {
        deliveryId: `${id}.partner.mind-matters`,
        recipient: { kind: 'partner', id: 'mind-matters', name: 'Mind Matters Yorkshire' },
        categories: ['mental-health'],
        content: 'identifiable',
      },
    ]);
  });

  it('records every candidate with the rule that ruled it in or out: paused, full, above the maximum age', () => {
    // Alex (born 1961-04-12) is 63 on 2025-03-04; svc-mind-one-to-one has the lower id but is full.
    const decision = decisionFor('leeds-arts-and-mental-health');
    expect(decision.matches.map((m) => m.serviceId)).not.toContain('svc-mind-one-to-one');
    expect(
      decision.needs?.map((n) => [
        n.category,
        n.outcome,
        n.candidates.map((c) => [c.serviceId, c.verdict, c.rule]),
      ]),
    ).toEqual([
      [
        'arts',
        'matched',
        [
          ['svc-arts-studio', 'chosen', 'chosen'],
          ['svc-arts-printmaking', 'ruled-out', 'paused'],
        ],
      ],
      [
        'mental-health',
        'matched',
        [
          ['svc-mind-groups', 'chosen', 'chosen'],
          ['svc-mind-one-to-one', 'ruled-out', 'full'],
          ['svc-young-minds', 'ruled-out', 'above-maximum-age'],
        ],
      ],
    ]);
    const youngMinds = decision.needs?.[1]?.candidates.find((c) => c.serviceId === 'svc-young-minds');
    expect(youngMinds?.reason).toBe('Young Minds Drop-in is for people aged 11 to 25; the patient is older');
  });

  it('a patient within the age range is matched by it (aged 19: Young Minds ranks by id after Wellbeing Groups)', () => {
    const referral = sampleReferral('leeds-arts-and-mental-health', { needs: ['mental-health'] });
    referral.patient.birthDate = '2006-01-01';
    const need = decideRouting(inputFor(referral)).needs?.[0];
    expect(need?.candidates.map((c) => [c.serviceId, c.rule])).toEqual([
      ['svc-mind-groups', 'chosen'],
      ['svc-young-minds', 'ranked-lower'],
      ['svc-mind-one-to-one', 'full'],
    ]);
  });

  it("with the patient's LSOA known, a service covering that LSOA is chosen before a district-wide one", () => {
    const referral = sampleReferral('leeds-arts-and-mental-health', { needs: ['food'] });
    const decision = decideRouting(
      inputFor(referral, sampleDirectory(), { location: leedsPostcode, deprivation: leedsDeprivation }),
    );
    expect(decision.classification).toMatchObject({
      postcodeStatus: 'found',
      lsoa: { code: 'E01011331', vintage: '2011' },
      localAuthority: 'E08000035',
      imd: { edition: '2019', rank: 1200, decile: 1 },
    });
    expect(decision.matches).toMatchObject([
      { serviceId: 'svc-pantry-woodhouse', partnerId: 'woodhouse-pantry', coveredBy: 'lsoa' },
    ]);
    expect(decision.needs?.[0]?.candidates.map((c) => [c.serviceId, c.coveredBy, c.rule])).toEqual([
      ['svc-pantry-woodhouse', 'lsoa', 'chosen'],
      ['svc-food-parcels', 'district', 'ranked-lower'],
    ]);
  });

  it('a service covering the whole local authority reaches the patient once the postcode is found', () => {
    const referral = sampleReferral('leeds-arts-and-mental-health', { needs: ['employment-support'] });
    expect(decideRouting(inputFor(referral)).unmetNeeds.map((u) => u.code)).toEqual(['no-service']);
    const found = decideRouting(inputFor(referral, sampleDirectory(), { location: leedsPostcode }));
    expect(found.matches).toMatchObject([{ serviceId: 'svc-leeds-works', coveredBy: 'local-authority' }]);
  });

  it('Blackpool: an area with no service for a need records an unmet need with category and area', () => {
    const decision = decisionFor('blackpool-benefits-and-activity');
    expect(decision.area).toBe('FY1');
    expect(decision.team?.id).toBe('lw-blackpool');
    expect(decision.unmetNeeds).toEqual([
      {
        category: 'benefits-advice',
        area: 'FY1',
        reason: 'no service in the directory offers benefits-advice in FY1',
        code: 'no-service',
        imd: null,
      },
    ]);
    expect(decision.needs?.[0]).toEqual({
      category: 'benefits-advice',
      outcome: 'unmet',
      candidates: [],
      unmet: { code: 'no-service', reason: 'no service in the directory offers benefits-advice in FY1' },
    });
    expect(decision.matches).toHaveLength(1);
    expect(decision.matches[0]).toMatchObject({
      category: 'physical-activity',
      serviceId: 'svc-walking-football',
      partnerId: 'blackpool-moves',
    });
    // Explicit consent for blackpool-moves.
    expect(decision.deliveries.map((d) => [d.recipient.id, d.content])).toEqual([
      ['lw-blackpool', 'identifiable'],
      ['blackpool-moves', 'identifiable'],
    ]);
  });

  it('Hastings: no consent means signposting for the partner; the practice area is used', () => {
    const decision = decisionFor('hastings-befriending-no-consent');
    expect(decision.area).toBe('TN34');
    expect(decision.areaSource).toBe('practice');
    expect(decision.unmetNeeds).toEqual([
      {
        category: 'employment-support',
        area: 'TN34',
        reason: 'no service in the directory offers employment-support in TN34',
        code: 'no-service',
        imd: null,
      },
    ]);
    expect(decision.deliveries.map((d) => [d.recipient.kind, d.recipient.id, d.content])).toEqual([
      ['team', 'lw-hastings', 'identifiable'],
      ['partner', 'coastal-friends', 'signposting'],
    ]);
    // Home visiting needs the patient's details and takes no signposting: without consent it is ruled out.
    expect(decision.needs?.[0]?.candidates.map((c) => [c.serviceId, c.verdict, c.rule, c.content])).toEqual([
      ['svc-befriending', 'chosen', 'chosen', 'signposting'],
      ['svc-home-visits', 'ruled-out', 'no-consent', undefined],
    ]);
  });

  it('Hastings with consent for home visiting: both fit, equal coverage, the lower id is chosen', () => {
    const decision = decisionFor('hastings-befriending-no-consent', {
      consent: [{ recipient: 'hastings-home-visits', granted: true }],
    });
    expect(decision.needs?.[0]?.candidates.map((c) => [c.serviceId, c.rule, c.content])).toEqual([
      ['svc-befriending', 'chosen', 'signposting'],
      ['svc-home-visits', 'ranked-lower', 'identifiable'],
    ]);
  });

  it('every fitting service needs consent the patient did not give: unmet, no-consent', () => {
    const directory = sampleDirectory();
    directory.services = directory.services.filter((s) => s.id !== 'svc-befriending');
    const decision = decideRouting(inputFor(sampleReferral('hastings-befriending-no-consent'), directory));
    expect(decision.unmetNeeds.find((u) => u.category === 'befriending')).toEqual({
      category: 'befriending',
      area: 'TN34',
      reason:
        '1 service(s) offer befriending in TN34, but none can take the referral with what the patient has consented to share (1 needs details the patient has not consented to share)',
      code: 'no-consent',
      imd: null,
    });
    expect(decision.deliveries.map((d) => d.recipient.kind)).toEqual(['team']);
  });

  it('matches in the patient postcode district rather than the practice area', () => {
    // Practice in LS6; patient lives in FY1 where only Blackpool Moves offers physical activity.
    const decision = decisionFor('leeds-arts-and-mental-health', {
      needs: ['physical-activity'],
      patient: { ...sampleReferral('leeds-arts-and-mental-health').patient, postcode: 'FY1 4AB' },
    });
    expect(decision.area).toBe('FY1');
    expect(decision.matches.map((m) => m.partnerId)).toEqual(['blackpool-moves']);
  });

  it('one delivery per recipient: a partner matched for two needs gets one delivery listing both', () => {
    const decision = decisionFor('leeds-arts-and-mental-health', { needs: ['nature', 'physical-activity'] });
    expect(decision.matches.map((m) => [m.category, m.partnerId])).toEqual([
      ['nature', 'green-gym'],
      ['physical-activity', 'green-gym'],
    ]);
    const partnerDeliveries = decision.deliveries.filter((d) => d.recipient.kind === 'partner');
    expect(partnerDeliveries).toEqual([
      {
        deliveryId: `${referralIds['leeds-arts-and-mental-health']}.partner.green-gym`,
        recipient: { kind: 'partner', id: 'green-gym', name: 'Leeds Green Gym' },
        categories: ['nature', 'physical-activity'],
        content: 'identifiable',
      },
    ]);
    const ids = decision.deliveries.map((d) => d.deliveryId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a specific refusal makes that partner signposting-only while any-vcse still covers the others', () => {
    const decision = decisionFor('leeds-arts-and-mental-health', {
      consent: [
        { recipient: 'any-vcse', granted: true },
        { recipient: 'mind-matters', granted: false },
      ],
    });
    const content = Object.fromEntries(decision.deliveries.map((d) => [d.recipient.id, d.content]));
    expect(content).toEqual({
      'lw-woodhouse': 'identifiable',
      'arts-for-all': 'identifiable',
      'mind-matters': 'signposting',
    });
  });

  it('with no consent at all every partner is signposting and the team is still identifiable', () => {
    const decision = decisionFor('leeds-arts-and-mental-health', { consent: [] });
    expect(decision.deliveries.map((d) => d.content)).toEqual(['identifiable', 'signposting', 'signposting']);
  });

  it('is deterministic: the same input gives the same decision', () => {
    const input = inputFor(sampleReferral('leeds-arts-and-mental-health'));
    expect(decideRouting(input)).toEqual(decideRouting(structuredClone(input)));
  });

  it('no team for the PCN: null team, a reason, and only partner deliveries', () => {
    const directory = sampleDirectory();
    directory.teams = directory.teams.filter((t) => t.pcn !== 'U00001');
    const decision = decideRouting(inputFor(sampleReferral('leeds-arts-and-mental-health'), directory));
    expect(decision.team).toBeNull();
    expect(decision.teamReason).toBe(
      'PCN U00001 of Woodhouse Medical Practice (A81001) has no link-worker team in the directory',
    );
    expect(decision.noTeam).toEqual({
      code: 'no-link-worker-team',
      reason: 'PCN U00001 of Woodhouse Medical Practice (A81001) has no link-worker team in the directory',
      pcn: 'U00001',
    });
    expect(decision.deliveries.every((d) => d.recipient.kind === 'partner')).toBe(true);
    expect(decision.deliveries).toHaveLength(2);
  });

  it('the sample practice in a PCN without a team (C83002, St Leonards) is recorded as such', () => {
    const referral = sampleReferral('hastings-befriending-no-consent', { practiceOds: 'C83002' });
    const decision = decideRouting(inputFor(referral));
    expect(decision.team).toBeNull();
    expect(decision.noTeam?.reason).toBe(
      'PCN U00004 of St Leonards Surgery (C83002) has no link-worker team in the directory',
    );
  });

  it.each([
    {
      name: 'a team that lists its practices serves only those',
      change: { practices: ['A81002'] },
      reason:
        'Woodhouse link workers, the link-worker team of PCN U00001, does not serve Woodhouse Medical Practice (A81001)',
    },
    {
      name: 'a retired team serves no one',
      change: { status: 'retired' as const },
      reason:
        'Woodhouse link workers, the link-worker team of PCN U00001 of Woodhouse Medical Practice (A81001), is retired',
    },
  ])('$name', ({ change, reason }) => {
    const directory = sampleDirectory();
    directory.teams = directory.teams.map((t) => (t.pcn === 'U00001' ? { ...t, ...change } : t));
    const decision = decideRouting(inputFor(sampleReferral('leeds-arts-and-mental-health'), directory));
    expect(decision.team).toBeNull();
    expect(decision.noTeam).toEqual({ code: 'no-link-worker-team', reason, pcn: 'U00001' });
    expect(decision.deliveries.map((d) => d.recipient.kind)).toEqual(['partner', 'partner']);
  });

  it('a team listing the practice serves it', () => {
    const directory = sampleDirectory();
    directory.teams = directory.teams.map((t) => (t.pcn === 'U00001' ? { ...t, practices: ['A81001'] } : t));
    const decision = decideRouting(inputFor(sampleReferral('leeds-arts-and-mental-health'), directory));
    expect(decision.team?.id).toBe('lw-woodhouse');
    expect(decision.noTeam).toBeUndefined();
  });

  it('the age is taken on the day the referral was received, not the day it is routed', () => {
    const referral = sampleReferral('leeds-arts-and-mental-health', { needs: ['mental-health'] });
    referral.patient.birthDate = '1999-03-05'; // 25 on 2025-03-04 (received), 26 the next day
    const input = inputFor(referral);
    const rule = (decidedAtLater: string) =>
      decideRouting({ ...input, decidedAt: decidedAtLater }).needs?.[0]?.candidates.find(
        (c) => c.serviceId === 'svc-young-minds',
      )?.rule;
    expect(rule('2025-03-04T09:20:00.000Z')).toBe('ranked-lower');
    expect(rule('2025-03-06T09:20:00.000Z')).toBe('ranked-lower');
    referral.receivedAt = '2025-03-05T09:15:00.000Z';
    expect(
      decideRouting({ ...inputFor(referral) }).needs?.[0]?.candidates.find(
        (c) => c.serviceId === 'svc-young-minds',
      )?.rule,
    ).toBe('above-maximum-age');
  });
});

describe('decideRouting with hand-built candidates', () => {
  const base = () => inputFor(sampleReferral('leeds-arts-and-mental-health', { needs: ['arts', 'nature'] }));

  it('when every covering service is full, the need is unmet with a "none is accepting" reason', () => {
    const input = base();
    input.candidates = {
      arts: [
        service('svc-a', 'p1', ['arts'], { capacity: { state: 'full' } }),
        service('svc-b', 'p2', ['arts'], { capacity: { state: 'full' } }),
      ],
      nature: [],
    };
    const decision = decideRouting(input);
    expect(decision.matches).toEqual([]);
    expect(decision.unmetNeeds).toEqual([
      {
        category: 'arts',
        area: 'LS6',
        reason: '2 service(s) offer arts in LS6, but none is taking referrals now (2 full)',
        code: 'all-full-or-paused',
        imd: null,
      },
      {
        category: 'nature',
        area: 'LS6',
        reason: 'no service in the directory offers nature in LS6',
        code: 'no-service',
        imd: null,
      },
    ]);
    expect(decision.deliveries.map((d) => d.recipient.kind)).toEqual(['team']);
  });

  it('a candidate outside the area is not a match (no service in the area)', () => {
    const input = base();
    input.candidates = {
      arts: [
        service('svc-a', 'p1', ['arts'], {
          coverage: { districts: ['LS2'], lsoas: [], localAuthorities: [] },
        }),
      ],
    };
    const decision = decideRouting(input);
    expect(decision.unmetNeeds.map((u) => u.category)).toEqual(['arts', 'nature']);
    expect(decision.unmetNeeds[0]?.reason).toBe('no service in the directory offers arts in LS6');
  });

  it('weekly limit: a service matched as often as its limit this week is ruled out, one below is not', () => {
    const input = base();
    input.referral.needs = ['arts'];
    input.candidates = {
      arts: [service('svc-a', 'p1', ['arts'], { capacity: { state: 'open', weeklyLimit: 2 } })],
    };
    expect(
      decideRouting({ ...input, weeklyMatches: { 'svc-a': 1 } }).matches.map((m) => m.serviceId),
    ).toEqual(['svc-a']);
    const reached = decideRouting({ ...input, weeklyMatches: { 'svc-a': 2 } });
    expect(reached.matches).toEqual([]);
    expect(reached.needs?.[0]?.candidates.map((c) => c.rule)).toEqual(['weekly-limit-reached']);
    expect(reached.unmetNeeds.map((u) => u.code)).toEqual(['all-full-or-paused']);
  });

  it('among open services picks the lowest service id and counts the alternatives', () => {
    const input = base();
    input.candidates = {
      arts: [
        service('svc-c', 'p3', ['arts']),
        service('svc-a', 'p1', ['arts']),
        service('svc-b', 'p2', ['arts']),
      ],
    };
    const [match] = decideRouting(input).matches;
    expect(match).toMatchObject({ category: 'arts', serviceId: 'svc-a', partnerId: 'p1' });
    expect(match?.reason).toBe(
      'Service svc-a covers postcode district LS6, admits the patient and is taking referrals; ranked first of ' +
        '3 services that fit; the patient consented to share their details with Partner p1',
    );
  });

  it('prefers a partner already chosen for an earlier need over a lower service id', () => {
    const input = base();
    input.candidates = {
      arts: [service('svc-z', 'p1', ['arts'])],
      nature: [service('svc-a', 'p2', ['nature']), service('svc-y', 'p1', ['nature'])],
    };
    const decision = decideRouting(input);
    expect(decision.matches.map((m) => [m.category, m.serviceId, m.partnerId])).toEqual([
      ['arts', 'svc-z', 'p1'],
      ['nature', 'svc-y', 'p1'],
    ]);
    expect(decision.deliveries.filter((d) => d.recipient.kind === 'partner')).toEqual([
      {
        deliveryId: deliveryIdFor(referralIds['leeds-arts-and-mental-health'], 'partner', 'p1'),
        recipient: { kind: 'partner', id: 'p1', name: 'Partner p1' },
        categories: ['arts', 'nature'],
        content: 'identifiable',
      },
    ]);
  });

  it('an extension prefers a partner the recorded decision already chose', () => {
    const input = base();
    input.referral.needs = ['arts'];
    input.candidates = { arts: [service('svc-z', 'p1', ['arts'])] };
    const routed: Referral = { ...input.referral, routing: decideRouting(input) };
    const extended = extendRouting({
      ...input,
      referral: { ...routed, needs: ['arts', 'nature'] },
      candidates: { nature: [service('svc-a', 'p2', ['nature']), service('svc-y', 'p1', ['nature'])] },
    });
    expect(extended.matches.map((m) => [m.category, m.serviceId])).toEqual([
      ['arts', 'svc-z'],
      ['nature', 'svc-y'],
    ]);
    expect(extended.needs?.[1]?.candidates[1]?.reason).toMatch(/already chosen for another need/);
  });

  it('without an earlier choice, the same nature candidates give the lowest id', () => {
    const input = base();
    input.referral.needs = ['nature'];
    input.candidates = { nature: [service('svc-y', 'p1', ['nature']), service('svc-a', 'p2', ['nature'])] };
    expect(decideRouting(input).matches.map((m) => m.serviceId)).toEqual(['svc-a']);
  });
});

describe('deliveryIdFor', () => {
  it('is referral id, kind and recipient id joined by dots', () => {
    expect(deliveryIdFor('abc', 'team', 'lw-woodhouse')).toBe('abc.team.lw-woodhouse');
    expect(deliveryIdFor('abc', 'partner', 'green-gym')).toBe('abc.partner.green-gym');
  });

  it('differs by kind and by recipient', () => {
    const ids = new Set([
      deliveryIdFor('r', 'team', 'x'),
      deliveryIdFor('r', 'partner', 'x'),
      deliveryIdFor('r', 'partner', 'y'),
      deliveryIdFor('s', 'partner', 'y'),
    ]);
    expect(ids.size).toBe(4);
  });
});

describe('extendRouting (needs added by an update)', () => {
  it('matches only the added need, keeps every earlier decision, and adds a delivery for a new partner only', () => {
    const first = sampleReferral('leeds-arts-and-mental-health');
    const routed: Referral = { ...first, status: 'routed', routing: decideRouting(inputFor(first)) };
    expect(uncoveredNeeds(routed)).toEqual([]);

    const amended: Referral = {
      ...routed,
      needs: [...routed.needs, 'physical-activity', 'food'],
      version: 2,
    };
    expect(uncoveredNeeds(amended)).toEqual(['physical-activity', 'food']);
    const extended = extendRouting(inputFor(amended));

    expect(extended.matches.slice(0, 2)).toEqual(routed.routing?.matches);
    expect(extended.matches[2]).toMatchObject({ category: 'physical-activity', partnerId: 'green-gym' });
    expect(extended.matches[3]).toMatchObject({ category: 'food', partnerId: 'advice-leeds' });
    expect(extended.unmetNeeds).toEqual([]);
    expect(extended.needs?.map((n) => n.category)).toEqual([
      'arts',
      'mental-health',
      'physical-activity',
      'food',
    ]);
    expect(extended.classification).toEqual(routed.routing?.classification);
    expect(extended.deliveries.map((d) => d.deliveryId)).toEqual([
      ...(routed.routing?.deliveries.map((d) => d.deliveryId) ?? []),
      deliveryIdFor(first.referralId, 'partner', 'green-gym'),
      deliveryIdFor(first.referralId, 'partner', 'advice-leeds'),
    ]);
    expect(uncoveredNeeds({ ...amended, routing: extended })).toEqual([]);
  });
});
