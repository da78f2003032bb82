import type { ImportProblem } from '#directory/domain/oruk.ts';
import type { OrukImportResult, RecordOutcome } from './import-oruk.ts';
import type { PracticesImportResult } from './import-practices.ts';

/** What `npm run directory` prints: pure, so the tests read the same lines an operator does. */

export function problemLine(problem: ImportProblem): string {
  return `  ${problem.path}: ${problem.rule}${problem.record ? `  [${problem.record}]` : ''}`;
}

/** Every problem (an operator fixes them all in one go), each on its line. */
export function problemLines(problems: readonly ImportProblem[], what: string): string[] {
  const records = new Set(problems.map((p) => /^(line \d+|[^.]*)/.exec(p.path)?.[0] ?? p.path)).size;
  return [
    `${what} has ${problems.length} problem${problems.length === 1 ? '' : 's'} in ${records} record${records === 1 ? '' : 's'}; nothing was imported:`,
    ...problems.map(problemLine),
  ];
}

/** Notes are many in a real feed (unmapped extra terms): the first `limit`, then how many more. */
export function noteLines(notes: readonly ImportProblem[], limit = 20): string[] {
  if (notes.length === 0) return [];
  return [
    `Read but not kept (${notes.length}):`,
    ...notes.slice(0, limit).map(problemLine),
    ...(notes.length > limit ? [`  ... and ${notes.length - limit} more`] : []),
  ];
}

function counts(outcomes: readonly RecordOutcome[], dryRun: boolean): string {
  const n = (outcome: RecordOutcome['outcome']) => outcomes.filter((o) => o.outcome === outcome).length;
  return dryRun
    ? `${n('created')} to create, ${n('updated')} to update, ${n('unchanged')} unchanged`
    : `${n('created')} created, ${n('updated')} updated, ${n('unchanged')} unchanged`;
}

export function orukSummaryLines(result: OrukImportResult, secretStore: string, dryRun: boolean): string[] {
  const changed = (outcomes: readonly RecordOutcome[]) =>
    outcomes.filter((o) => o.outcome !== 'unchanged').map((o) => `${o.id} (${o.outcome})`);
  const lines = [
    ...(dryRun ? ['Dry run: nothing was written.'] : []),
    `Partners: ${counts(result.partners, dryRun)}.`,
    `Services: ${counts(result.services, dryRun)}.`,
  ];
  const names = [...changed(result.partners), ...changed(result.services)];
  if (names.length > 0 && names.length <= 50)
    lines.push(`${dryRun ? 'Would change' : 'Changed'}: ${names.join(', ')}.`);
  const partnersWith = (outcome: 'generated' | 'kept') =>
    result.secrets
      .filter((s) => s.outcome === outcome)
      .map((s) => s.partnerId)
      .sort();
  const generated = partnersWith('generated');
  const kept = partnersWith('kept');
  if (generated.length > 0)
    lines.push(
      `Signing secrets generated for ${generated.length} new partner${generated.length === 1 ? '' : 's'}, stored in ${secretStore} as partner/<id> (their values are not printed: give each partner its own from there): ${generated.join(', ')}.`,
    );
  if (kept.length > 0)
    lines.push(
      `Signing secrets already stored in ${secretStore} were kept for ${kept.length} new partner${kept.length === 1 ? '' : 's'}: ${kept.join(', ')}.`,
    );
  if (dryRun) {
    const fresh = result.partners.filter((p) => p.outcome === 'created').map((p) => p.id);
    if (fresh.length > 0)
      lines.push(`New partners would get a signing secret in ${secretStore}: ${fresh.join(', ')}.`);
  }
  return lines;
}

export function practicesSummaryLines(result: PracticesImportResult, dryRun: boolean): string[] {
  return [
    `${dryRun ? 'Dry run: nothing was written. Would put' : 'Put'} ${result.pcns.length} PCN${result.pcns.length === 1 ? '' : 's'} and ${result.practices.length} practice${result.practices.length === 1 ? '' : 's'}.`,
    ...(result.skipped.length > 0
      ? [
          `Skipped ${result.skipped.length} relationship${result.skipped.length === 1 ? '' : 's'} not current:`,
          ...result.skipped.map((s) => `  line ${s.line}: ${s.ods} ${s.reason} (${s.pcn})`),
        ]
      : []),
    ...(result.withoutTeam.length > 0
      ? [
          `No active link-worker team serves ${result.withoutTeam.length} practice${result.withoutTeam.length === 1 ? '' : 's'}: their referrals are recorded unmet ('no link-worker team') until one does:`,
          ...result.withoutTeam.map((p) => `  ${p.ods} ${p.name} (PCN ${p.pcn})`),
        ]
      : []),
    ...practiceSecretLines(result),
  ];
}

/** The practices' signing secrets: never their values, only their names, to be given to each practice's system. */
function practiceSecretLines(result: PracticesImportResult): string[] {
  const generated = result.secrets.filter((s) => s.outcome === 'generated');
  const withEndpoint = result.practices.filter((p) => p.endpoint !== undefined).length;
  if (result.written && withEndpoint > 0 && result.secrets.length === 0)
    return [
      `No secret store was given (RECIPIENT_SECRETS or --secrets): ${withEndpoint} practice${withEndpoint === 1 ? '' : 's'} with an endpoint ${withEndpoint === 1 ? 'has' : 'have'} no signing secret, so the messages back to ${withEndpoint === 1 ? 'it' : 'them'} are not sent.`,
    ];
  if (generated.length === 0) return [];
  return [
    `Generated ${generated.length} practice signing secret${generated.length === 1 ? '' : 's'} (give each to the practice's system from the secret store):`,
    ...generated.map((s) => `  practice/${s.ods}`),
  ];
}
