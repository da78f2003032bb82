import type { Partner } from '#directory/domain/directory.ts';
import type { DirectoryEditor } from '#directory/ports.ts';
import type { Clock } from '#kernel/clock.ts';
import { VersionConflictError } from '#kernel/errors.ts';
import {
  addFigures,
  noFigures,
  responseRecordOf,
  responseWindow,
  sameResponseRecord,
} from '#reporting/domain/response-record.ts';
import type { PartnerResponses } from '#reporting/ports.ts';

/**
 * The response-record job (a scheduled function, daily; `npm run response-records` to run it now): every active
 * partner's record recomputed from its answers of the last 90 days (#reporting/domain/response-record.ts) and
 * written to `Partner.responseRecord` through the DirectoryEditor, which re-indexes the partner's services, so
 * matching ranks by the new record from then on.
 *
 * Partners are listed with `DirectoryEditor.list('partner')`, the directory's export path (the CLI's `export` uses
 * it): the directory has no listing of partners by key, so that is a Scan of the directory table filtered to
 * partner profiles. Once a day, off any referral's path, over a table of a few thousand items, that is acceptable;
 * a `PARTNERS` listing item would be the next step if the directory grows large.
 *
 * A record that says what the stored one says is not written (each write moves the partner's version and re-indexes
 * its services). A write is version-guarded: an admin's edit racing it is not lost; the partner is read again and
 * the record written once more on top of the admin's edit. A second conflict leaves that partner to the next run.
 * Safe to repeat and to overlap: the figures are exact, and the record is a function of them.
 */

export interface ResponseRecordDeps {
  partners: Pick<DirectoryEditor, 'get' | 'replace' | 'list'>;
  responses: PartnerResponses;
  clock: Clock;
}

export type ResponseRecordStep = 'updated' | 'unchanged' | 'would-update' | 'conflicted';

export interface ResponseRecordRunSummary {
  window: { from: string; to: string };
  partners: number;
  updated: number;
  unchanged: number;
  /** Edited by someone else twice while this run wrote: left to the next run. */
  conflicted: number;
  /** Per partner (ids and figures only: no patient data is in a record). */
  steps: Array<{ partnerId: string; step: ResponseRecordStep; record?: Partner['responseRecord'] }>;
}

export async function recomputeResponseRecords(
  deps: ResponseRecordDeps,
  options: { dryRun?: boolean } = {},
): Promise<ResponseRecordRunSummary> {
  const window = responseWindow(deps.clock.now().toISOString().slice(0, 10));
  const summary: ResponseRecordRunSummary = {
    window,
    partners: 0,
    updated: 0,
    unchanged: 0,
    conflicted: 0,
    steps: [],
  };
  for await (const partner of deps.partners.list('partner')) {
    if (partner.status !== 'active') continue;
    summary.partners++;
    const step = await recomputeOne(deps, partner, window, options.dryRun ?? false);
    summary[step.step === 'would-update' ? 'updated' : step.step]++;
    summary.steps.push(step);
  }
  return summary;
}

async function recomputeOne(
  deps: ResponseRecordDeps,
  listed: Partner,
  window: { from: string; to: string },
  dryRun: boolean,
): Promise<ResponseRecordRunSummary['steps'][number]> {
  const days = await deps.responses.figures(listed.id, window.from, window.to);
  const figures = days.reduce(addFigures, noFigures());
  // A partner that never had a record and has no figures is left alone (matching reads "no record yet" either way).
  const record = days.length === 0 && !listed.responseRecord ? undefined : responseRecordOf(figures);
  let partner: Partner | undefined = listed;
  for (let attempt = 0; attempt < 2 && partner?.status === 'active'; attempt++) {
    if (record === undefined || sameResponseRecord(partner.responseRecord, record))
      return { partnerId: listed.id, step: 'unchanged' };
    if (dryRun) return { partnerId: listed.id, step: 'would-update', record };
    try {
      await deps.partners.replace('partner', { ...partner, responseRecord: record }, partner.version);
      return { partnerId: listed.id, step: 'updated', record };
    } catch (error) {
      if (!(error instanceof VersionConflictError)) throw error;
      // An admin edited the partner meanwhile: keep their edit, put the record on top of it.
      partner = await deps.partners.get('partner', listed.id);
    }
  }
  // Retired (or gone) meanwhile: its record no longer matters to matching.
  return partner?.status === 'active'
    ? { partnerId: listed.id, step: 'conflicted' }
    : { partnerId: listed.id, step: 'unchanged' };
}
