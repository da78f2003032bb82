import {
  servesPractice,
  type ChannelPolicy,
  type LinkWorkerTeam,
  type Pcn,
  type Practice,
} from '#directory/domain/directory.ts';
import { practicesFromOds, type SkippedRow } from '#directory/domain/ods.ts';
import type { ImportProblem } from '#directory/domain/oruk.ts';
import type { DirectoryEditor, RecipientSecretsWriter } from '#directory/ports.ts';
import { CsvFileError, csvRows } from './csv-rows.ts';
import { newWebhookSecret } from './import-oruk.ts';

/**
 * `npm run directory -- import-practices FILE`: PCNs and practices from an ODS PCN core partner CSV
 * (#directory/domain/ods.ts), all or nothing, put as they are (reference data, unversioned). Practices no active
 * link-worker team serves are listed: their referrals are recorded unmet, "no link-worker team", until one does.
 * A practice's endpoint (the messages back to it) comes from the file's optional `Endpoint` column; a practice the
 * file gives none for keeps the one the directory already has, so re-importing an ODS file never loses them.
 * Given a secret store, a practice with an endpoint and no signing secret (`practice/<ods>`, which signs the messages
 * back to it) gets one generated first, so a practice with an endpoint has a secret; one already there is kept (it
 * may be in the practice's system already).
 */

export interface PracticesImportResult {
  /** When any, nothing was written. */
  problems: ImportProblem[];
  pcns: Pcn[];
  practices: Practice[];
  skipped: SkippedRow[];
  /** Practices of the file that no active team serves. */
  withoutTeam: Practice[];
  /** The signing secrets of practices with an endpoint: generated now, or kept (empty without a secret store). */
  secrets: Array<{ ods: string; outcome: 'generated' | 'kept' }>;
  written: boolean;
}

export async function importPracticesFile(
  text: string,
  editor: DirectoryEditor,
  options: {
    today: string;
    dryRun?: boolean;
    /** The deployment's webhook channel policy an endpoint must pass (https-only by default). */
    channels?: ChannelPolicy;
    /** The practice as the directory has it now, to keep its endpoint when the file gives none. */
    existingPractice?: (ods: string) => Promise<Practice | undefined>;
    /** Where practices' signing secrets go; without one, none is made (the messages back are then not sent). */
    secrets?: RecipientSecretsWriter;
    newSecret?: () => string;
  },
): Promise<PracticesImportResult> {
  const empty = { pcns: [], practices: [], skipped: [], withoutTeam: [], secrets: [], written: false };
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
  const read = practicesFromOds(rows, options.today, options.channels ?? 'https-only');
  if (!read.ok) return { ...empty, problems: read.problems };
  const existing = options.existingPractice;
  const practices =
    existing === undefined
      ? read.practices
      : await Promise.all(
          read.practices.map(async (practice) => {
            if (practice.endpoint !== undefined) return practice;
            const endpoint = (await existing(practice.ods))?.endpoint;
            return endpoint === undefined ? practice : { ...practice, endpoint };
          }),
        );

  const teams: LinkWorkerTeam[] = [];
  for await (const team of editor.list('team')) teams.push(team);
  const withoutTeam = practices.filter((practice) => !teams.some((team) => servesPractice(team, practice)));
  const result = {
    problems: [],
    pcns: read.pcns,
    practices,
    skipped: read.skipped,
    withoutTeam,
  };
  if (options.dryRun) return { ...result, secrets: [], written: false };
  const secrets: PracticesImportResult['secrets'] = [];
  const store = options.secrets;
  const newSecret = options.newSecret ?? newWebhookSecret;
  if (store)
    for (const practice of practices.filter((p) => p.endpoint !== undefined)) {
      if ((await store.secretOf('practice', practice.ods)) === undefined) {
        await store.putSecret('practice', practice.ods, newSecret());
        secrets.push({ ods: practice.ods, outcome: 'generated' });
      } else secrets.push({ ods: practice.ods, outcome: 'kept' });
    }
  await editor.putPractices(read.pcns, practices);
  return { ...result, secrets, written: true };
}
