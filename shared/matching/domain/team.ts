import type { LinkWorkerTeam, Practice } from '#directory/domain/directory.ts';
import { servesPractice } from '#directory/domain/serves-practice.ts';
import type { NoTeam, RoutingDecision } from '#referral/domain/referral.ts';

/**
 * Who sees the patient: the link-worker team of the practice's PCN, if it is active and serves the practice (a team
 * that keeps a list of practices serves only those). Otherwise the referral records "no link-worker team" with why,
 * is counted, and still goes to the partners matched: the gap is visible, not a silent drop.
 */
export function assignTeam(
  team: LinkWorkerTeam | undefined,
  practice: Practice,
): Pick<RoutingDecision, 'team' | 'teamReason'> & { noTeam?: NoTeam } {
  const of = `${practice.name} (${practice.ods})`;
  if (team && servesPractice(team, practice)) {
    return {
      team: { id: team.id, name: team.name },
      teamReason: `${team.name} is the link-worker team of PCN ${practice.pcn}, which ${of} belongs to`,
    };
  }
  const reason = !team
    ? `PCN ${practice.pcn} of ${of} has no link-worker team in the directory`
    : team.status !== 'active'
      ? `${team.name}, the link-worker team of PCN ${practice.pcn} of ${of}, is retired`
      : `${team.name}, the link-worker team of PCN ${practice.pcn}, does not serve ${of}`;
  return {
    team: null,
    teamReason: reason,
    noTeam: { code: 'no-link-worker-team', reason, pcn: practice.pcn },
  };
}
