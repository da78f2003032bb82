import { ageOn } from '#matching/domain/age.ts';
import type { Patient, Referral, RoutingDecision } from '#referral/domain/referral.ts';
import {
  ageBandOf,
  notApplicable,
  unknownValue,
  type Figure,
  type FunnelStage,
  sexes,
  type Sex,
} from '#reporting/domain/figures.ts';

/**
 * The observatory's figures of a routed referral (#reporting/domain/figures.ts): the `referrals` figure, its `needs`
 * figures and its `funnel` figures, built from the referral as stored, so a retry builds the same cells. Pure: the
 * callers (routing, case work, cancellation) record them once per unit (Figures.recordOnce).
 *
 * Where each dimension comes from:
 * - `practice` the referring practice's ODS code; `pcn` the practice's PCN as the router found it in the directory
 *   (`routing.pcn`; for a decision before it was kept, the no-team record's PCN, else `unknown`);
 * - `team` the link-worker team routed to, `-` when no team serves the practice;
 * - `area` the postcode district matched in; `localAuthority` and `imd` from the area classification (with the IMD
 *   edition always, `<edition>:unknown` for an area with no decile);
 * - `channel` how it came (FHIR or JSON); `ageBand` the age on the day received, in England (#matching/domain/age.ts);
 *   `sex` from the patient record (sexOf).
 */

/** A routed referral's figures with the unit each is counted once for. */
export interface CountedFigures {
  unitId: string;
  figures: Figure[];
}

/**
 * The patient's sex for the figures and the evaluation extract: the FHIR administrative gender the referral gives
 * (`patient.gender`: female, male, other, unknown; BaRS Patient.gender), `unknown` when it gives none. Intake admits
 * only those codes; anything else read back (an item written by hand) is `unknown` too, never a cell of its own.
 */
export function sexOf(patient: Pick<Patient, 'gender'>): Sex {
  const gender: unknown = patient.gender;
  return sexes.find((sex) => sex === gender) ?? 'unknown';
}

/** The UTC day (`YYYY-MM-DD`) of an instant as recorded. */
export const dayOf = (instant: string): string => instant.slice(0, 10);

/** `<edition>:<decile>`, or `<edition>:unknown`: never a decile without its edition (`unknown:unknown` before 2019). */
export function imdOf(decision: Pick<RoutingDecision, 'classification'>): string {
  const area = decision.classification;
  if (!area) return `${unknownValue}:${unknownValue}`;
  return area.imd ? `${area.imd.edition}:${area.imd.decile}` : `${area.imdEdition}:${unknownValue}`;
}

/** The practice's PCN as the router found it; a decision recorded before it was kept gives the no-team's, if any. */
export function pcnOf(decision: Pick<RoutingDecision, 'pcn' | 'noTeam'>): string {
  return decision.pcn ?? decision.noTeam?.pcn ?? unknownValue;
}

/** The place dimensions every referral-based family shares. */
function placeOf(referral: Referral, decision: RoutingDecision) {
  return {
    practice: referral.practiceOds,
    pcn: pcnOf(decision),
    area: decision.area,
    localAuthority: decision.classification?.localAuthority ?? unknownValue,
    imd: imdOf(decision),
  };
}

/** The `referrals` figure of a routed referral, on the day it was received; none before it is routed. */
export function referralFigure(referral: Referral): Figure<'referrals'> | undefined {
  const decision = referral.routing;
  if (!decision) return undefined;
  const { practice, pcn, area, localAuthority, imd } = placeOf(referral, decision);
  return {
    family: 'referrals',
    day: dayOf(referral.receivedAt),
    dimensions: {
      practice,
      pcn,
      team: decision.team?.id ?? notApplicable,
      area,
      localAuthority,
      imd,
      channel: referral.source.channel,
      // As first routed (an amended patient stays in the cell it was counted in); older decisions: from the patient.
      ageBand:
        decision.patientBands?.ageBand ?? ageBandOf(ageOn(referral.patient.birthDate, referral.receivedAt)),
      sex: decision.patientBands?.sex ?? sexOf(referral.patient),
    },
  };
}

/**
 * One `needs` figure per need the decision answered (matched or unmet), on the day received. A practice no
 * link-worker team serves counts its matched needs unmet with reason `no-link-worker-team` (nobody will see the
 * patient); a need unmet for want of a service keeps its own reason there too, as the gap in provision it is.
 * A need added by an update and not yet routed has no figure until it is.
 */
export function needFigures(referral: Referral): Figure<'needs'>[] {
  const decision = referral.routing;
  if (!decision) return [];
  const place = placeOf(referral, decision);
  const unmet = new Map(decision.unmetNeeds.map((u) => [u.category, u.code]));
  const matched = new Set(decision.matches.map((m) => m.category));
  const noTeam = decision.team === null;
  return referral.needs.flatMap((category): Figure<'needs'>[] => {
    const code = unmet.get(category);
    if (code === undefined && !matched.has(category)) return [];
    const [outcome, reason] =
      code !== undefined
        ? (['unmet', code] as const)
        : noTeam
          ? (['unmet', 'no-link-worker-team'] as const)
          : (['matched', notApplicable] as const);
    return [
      {
        family: 'needs',
        day: dayOf(referral.receivedAt),
        dimensions: { category, outcome, reason, ...place },
      },
    ];
  });
}

/** The unit a need is counted once for. */
export const needUnit = (referralId: string, category: string): string => `${referralId}#${category}`;

/** The unit a referral's stage is counted once for: a stage reached again (a retry) adds nothing. */
export const funnelUnit = (referralId: string, stage: FunnelStage): string => `${referralId}#${stage}`;

/**
 * The `funnel` figure of a referral reaching `stage` at `at` (the step's time as recorded, so a retry names the same
 * day); `reason` a decline's coded reason or a closure's reason, else `-`. None for a referral never routed (a
 * cancellation before routing is not in the funnel: it was never referred onward).
 */
export function funnelFigure(
  referral: Referral,
  stage: FunnelStage,
  at: string,
  reason?: string,
): Figure<'funnel'> | undefined {
  const decision = referral.routing;
  if (!decision) return undefined;
  const { practice, pcn, area, localAuthority, imd } = placeOf(referral, decision);
  return {
    family: 'funnel',
    day: dayOf(at),
    dimensions: {
      stage,
      reason: reason ?? notApplicable,
      practice,
      pcn,
      team: decision.team?.id ?? notApplicable,
      area,
      localAuthority,
      imd,
    },
  };
}

/**
 * What routing counts for a routed referral: the referral (unit: its id), each need (`<referralId>#<category>`) and
 * the funnel's `referred` (`<referralId>#referred`), all on the day it was received.
 */
export function routingFigures(referral: Referral): CountedFigures[] {
  const referred = referralFigure(referral);
  if (!referred) return [];
  const funnel = funnelFigure(referral, 'referred', referral.receivedAt);
  return [
    { unitId: referral.referralId, figures: [referred] },
    ...needFigures(referral).map((figure) => ({
      unitId: needUnit(referral.referralId, figure.dimensions.category),
      figures: [figure],
    })),
    ...(funnel ? [{ unitId: funnelUnit(referral.referralId, 'referred'), figures: [funnel] }] : []),
  ];
}
