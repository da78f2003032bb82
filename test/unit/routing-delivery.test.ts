import { describe, expect, it } from 'vitest';
import { buildDeliveryPayload } from '#delivery/domain/minimisation.ts';
import { decideRouting } from '#matching/domain/routing.ts';
import { classifyArea, areaKeysOf } from '#matching/domain/area.ts';
import type { InterventionCategory } from '#referral/domain/categories.ts';
import type { Referral } from '#referral/domain/referral.ts';
import { candidatesIn } from './fakes.ts';
import { sampleDirectory, sampleReferral } from './fixtures.ts';

/** What the team and partners are told about the needs no service could meet. */

function routed(): Referral {
  const directory = sampleDirectory();
  const referral = sampleReferral('blackpool-benefits-and-activity');
  const practice = directory.practices.find((p) => p.ods === referral.practiceOds);
  if (!practice) throw new Error('no practice');
  const area = classifyArea({
    postcode: referral.patient.postcode,
    practice,
    location: {
      postcode: 'FY1 4AB',
      district: 'FY1',
      lsoa11: 'E01012670',
      localAuthority: 'E06000009',
      terminated: false,
    },
    deprivation: { edition: '2019', lsoa: 'E01012670', rank: 12, decile: 1 },
    edition: '2019',
  });
  const candidates: Partial<Record<InterventionCategory, ReturnType<typeof candidatesIn>>> = {};
  for (const need of referral.needs) candidates[need] = candidatesIn(directory, need, areaKeysOf(area));
  const routing = decideRouting({
    referral,
    practice,
    team: directory.teams.find((t) => t.pcn === practice.pcn),
    area,
    candidates,
    decidedAt: '2025-03-04T09:20:00.000Z',
  });
  return { ...referral, status: 'routed', routing };
}

describe('the unmet needs in the deliveries', () => {
  it("the team's delivery says which needs are unmet and why", () => {
    const referral = routed();
    const team = referral.routing?.deliveries.find((d) => d.recipient.kind === 'team');
    if (!team) throw new Error('no team delivery');
    const payload = buildDeliveryPayload(referral, team, 'FY1');
    expect(payload.unmetNeeds).toEqual([
      {
        category: 'benefits-advice',
        code: 'no-service',
        reason:
          'no service in the directory offers benefits-advice in FY1 (LSOA E01012670, local authority E06000009)',
      },
    ]);
  });

  it('a partner is never told about unmet needs', () => {
    const referral = routed();
    const partner = referral.routing?.deliveries.find((d) => d.recipient.kind === 'partner');
    if (!partner) throw new Error('no partner delivery');
    const payload = buildDeliveryPayload(referral, partner, 'FY1');
    expect('unmetNeeds' in payload).toBe(false);
    expect(JSON.stringify(payload)).not.toContain('E01012670');
  });

  it('with every need met the team is told none is unmet', () => {
    const referral = routed();
    if (!referral.routing) throw new Error('not routed');
    referral.routing.unmetNeeds = [];
    const team = referral.routing.deliveries.find((d) => d.recipient.kind === 'team');
    if (!team) throw new Error('no team delivery');
    expect(buildDeliveryPayload(referral, team, 'FY1').unmetNeeds).toEqual([]);
  });
});
