import { describe, expect, it } from 'vitest';
import type { InterventionCategory } from '#referral/domain/categories.ts';
import { Service, type DirectorySnapshot, type Practice } from '#directory/domain/directory.ts';
import type { Referral } from '#referral/domain/referral.ts';
import {
  decideRouting,
  deliveryIdFor,
  extendRouting,
  referralArea,
  uncoveredNeeds,
  type RoutingInput,
  type ServiceCandidate,
} from '#matching/domain/routing.ts';
import { candidatesIn } from './fakes.ts';
import { referralIds, sampleDirectory, sampleReferral, type SampleName } from './fixtures.ts';

const decidedAt = '2025-03-04T09:20:00.000Z';

/** The routing input the router would build from the directory for this referral. */
function inputFor(referral: Referral, directory: DirectorySnapshot = sampleDirectory()): RoutingInput {
  const practice = directory.practices.find((p) => p.ods === referral.practiceOds);
  if (!practice) throw new Error(`no practice ${referral.practiceOds}`);
  const { area } = referralArea(referral, practice);
  const candidates: Partial<Record<InterventionCategory, ServiceCandidate[]>> = {};
  for (const need of referral.needs) candidates[need] = candidatesIn(directory, need, area);
  return {
    referral,
    practice,
    team: directory.teams.find((t) => t.pcn === practice.pcn),
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

describe('referralArea', () => {
  const practice: Practice = {
    ods: 'A81001',
    name: 'Woodhouse Medical Practice',
    pcn: 'U00001',
    area: 'LS6',
  };

  it("uses the patient's postcode district when there is a postcode", () => {
    const referral = sampleReferral('leeds-arts-and-mental-health');
    referral.patient.postcode = 'LS2 9JT';
    expect(referralArea(referral, practice)).toEqual({ area: 'LS2', areaSource: 'patient-postcode' });
  });

  it("falls back to the practice's area without one", () => {
    const referral = sampleReferral('leeds-arts-and-mental-health');
    delete referral.patient.postcode;
    expect(referralArea(referral, practice)).toEqual({ area: 'LS6', areaSource: 'practice' });
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
        reason: 'Open Studio Mornings offers arts in LS6 and is accepting referrals',
      },
      {
        category: 'mental-health',
        serviceId: 'svc-mind-groups',
        serviceName: 'Wellbeing Groups',
        partnerId: 'mind-matters',
        partnerName: 'Mind Matters Yorkshire',
        reason: 'Wellbeing Groups offers mental-health in LS6 and is accepting referrals',
      },
    ]);
    expect(decision.unmetNeeds).toEqual([]);
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

  it('skips a service that is not accepting referrals (svc-mind-one-to-one has the lower id but is full)', () => {
    const decision = decisionFor('leeds-arts-and-mental-health');
    expect(decision.matches.map((m) => m.serviceId)).not.toContain('svc-mind-one-to-one');
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
      },
    ]);
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
      },
    ]);
    expect(decision.deliveries.map((d) => [d.recipient.kind, d.recipient.id, d.content])).toEqual([
      ['team', 'lw-hastings', 'identifiable'],
      ['partner', 'coastal-friends', 'signposting'],
    ]);
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
    expect(decision.deliveries.every((d) => d.recipient.kind === 'partner')).toBe(true);
    expect(decision.deliveries).toHaveLength(2);
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
        reason: '2 service(s) offer arts in LS6 but none is accepting referrals',
      },
      { category: 'nature', area: 'LS6', reason: 'no service in the directory offers nature in LS6' },
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
      'Service svc-a offers arts in LS6 and is accepting referrals (2 other open service(s) there)',
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
    expect(extended.unmetNeeds).toEqual([
      { category: 'food', area: 'LS6', reason: 'no service in the directory offers food in LS6' },
    ]);
    expect(extended.deliveries.map((d) => d.deliveryId)).toEqual([
      ...(routed.routing?.deliveries.map((d) => d.deliveryId) ?? []),
      deliveryIdFor(first.referralId, 'partner', 'green-gym'),
    ]);
    expect(uncoveredNeeds({ ...amended, routing: extended })).toEqual([]);
  });
});
