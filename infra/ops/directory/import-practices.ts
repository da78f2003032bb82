import { servesPractice, type LinkWorkerTeam, type Pcn, type Practice } from '#directory/domain/directory.ts';
import { practicesFromOds, type SkippedRow } from '#directory/domain/ods.ts';
import type { ImportProblem } from '#directory/domain/oruk.ts';
import type { DirectoryEditor } from '#directory/ports.ts';
import { CsvFileError, csvRows } from './csv-rows.ts';

/**
 * `npm run directory -- import-practices FILE`: PCNs and practices from an ODS PCN core partner CSV
 * (#directory/domain/ods.ts), all or nothing, put as they are (reference data, unversioned). Practices no active
 * link-worker team serves are listed: their referrals are recorded unmet, "no link-worker team", until one does.
 */

export interface PracticesImportResult {
  /** When any, nothing was written. */
  problems: ImportProblem[];
  pcns: Pcn[];
  practices: Practice[];
  skipped: SkippedRow[];
  /** Practices of the file that no active team serves. */
  withoutTeam: Practice[];
  written: boolean;
}

export async function importPracticesFile(
  text: string,
  editor: DirectoryEditor,
  options: { today: string; dryRun?: boolean },
): Promise<PracticesImportResult> {
  const empty = { pcns: [], practices: [], skipped: [], withoutTeam: [], written: false };
  let rows;
  try {
    rows = csvRows(text);
  } catch (error) {
    if (!(error instanceof CsvFileError)) throw error;
    return {
      ...empty,
      problems: [{ path: `line ${error.line ?? '?'}`, rule: `not readable as CSV: ${error.message}` }],
    };
  }
  const read = practicesFromOds(rows, options.today);
  if (!read.ok) return { ...empty, problems: read.problems };

  const teams: LinkWorkerTeam[] = [];
  for await (const team of editor.list('team')) teams.push(team);
  const withoutTeam = read.practices.filter(
    (practice) => !teams.some((team) => servesPractice(team, practice)),
  );
  const result = {
    problems: [],
    pcns: read.pcns,
    practices: read.practices,
    skipped: read.skipped,
    withoutTeam,
  };
  if (options.dryRun) return { ...result, written: false };
  await editor.putPractices(read.pcns, read.practices);
  return { ...result, written: true };
}
