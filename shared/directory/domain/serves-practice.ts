import type { LinkWorkerTeam, Practice } from '#directory/domain/directory.ts';

/**
 * Whether a team serves a practice: its PCN's, and on its list if it keeps one. On its own (directory.ts
 * re-exports it) so that matching, which takes the records already parsed, does not build the directory's schemas
 * at import in every function that routes.
 */
export function servesPractice(team: LinkWorkerTeam, practice: Practice): boolean {
  return (
    team.status === 'active' &&
    team.pcn === practice.pcn &&
    (team.practices === undefined || team.practices.includes(practice.ods))
  );
}
