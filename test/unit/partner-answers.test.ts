import { beforeEach, describe, expect, it } from 'vitest';
import { actOnPartnerOffer } from '#referral/application/case-work.ts';
import { runOfferDeadlines, type OfferDeadlineDeps } from '#referral/application/offer-deadlines.ts';
import { recomputeResponseRecords } from '#reporting/application/recompute-response-records.ts';
import type { DirectoryEditor } from '#directory/ports.ts';
import { offerIdFor } from '#referral/domain/offer.ts';
import type { FakeClock } from './fakes.ts';
import type { InMemoryDirectoryEditor } from './fakes-directory-editor.ts';
import type { InMemoryPartnerResponses } from './fakes-partner-responses.ts';
import { referralIds } from './fixtures.ts';
import { routedCase } from './routed-case.ts';

// Partners' answers counted for their response records where they happen (a partner's accept or decline, the
// deadline job's expiry), each once however often the step is retried, and the daily job that turns them into each
// active partner's record in the directory, on the fakes.

const id = referralIds['leeds-arts-and-mental-health'];
const pantry = { organisation: 'woodhouse-pantry', subject: 'pantry-user' };
const arts = { organisation: 'arts-for-all', subject: 'arts-user' };
const pantryOffer = offerIdFor(id, 'food', 'svc-pantry-woodhouse');
const artsOffer = offerIdFor(id, 'arts', 'svc-arts-studio');
const hour = 3_600_000;
const day = 24 * hour;

let responses: InMemoryPartnerResponses;
let editor: InMemoryDirectoryEditor;
let clock: FakeClock;
let deps: OfferDeadlineDeps;

beforeEach(async () => {
  // Food goes to the pantry (then food parcels), arts to the studio alone; offered at 09:20 on 4 March.
  ({ responses, editor, clock, deps } = await routedCase(['food', 'arts']));
});

const body = (fields: Record<string, unknown>) => () => fields;
const figuresOf = (partnerId: string) => responses.figures(partnerId, '2025-01-01', '2025-12-31');
const records = () => recomputeResponseRecords({ partners: editor, responses, clock });

describe('answers counted where they happen', () => {
  it('an accept counts once with its response time, however often it is sent', async () => {
    clock.advance(3 * hour);
    await actOnPartnerOffer(deps, pantry, pantryOffer, 'accept', body({ version: 1 }));
    clock.advance(hour);
    await actOnPartnerOffer(deps, pantry, pantryOffer, 'accept', body({ version: 1 }));
    await expect(figuresOf('woodhouse-pantry')).resolves.toEqual([
      { day: '2025-03-04', accepted: 1, declined: {}, expired: 0, bands: { 'within-4h': 1 } },
    ]);
  });

  it('a decline counts once by its coded reason (free text never), retried or not', async () => {
    clock.advance(30 * hour);
    const decline = body({ version: 1, reason: 'other', text: 'We are closed for refurbishment this month' });
    await actOnPartnerOffer(deps, arts, artsOffer, 'decline', decline);
    await actOnPartnerOffer(deps, arts, artsOffer, 'decline', decline);
    await expect(figuresOf('arts-for-all')).resolves.toEqual([
      { day: '2025-03-05', accepted: 0, declined: { other: 1 }, expired: 0, bands: { 'within-48h': 1 } },
    ]);
  });

  it('a decline after accepting is not a second answer: the acceptance alone is counted', async () => {
    clock.advance(2 * hour);
    await actOnPartnerOffer(deps, pantry, pantryOffer, 'accept', body({ version: 1 }));
    clock.advance(4 * day);
    await actOnPartnerOffer(
      deps,
      pantry,
      pantryOffer,
      'decline',
      body({ version: 1, reason: 'patient-unreachable' }),
    );
    await expect(figuresOf('woodhouse-pantry')).resolves.toEqual([
      { day: '2025-03-04', accepted: 1, declined: {}, expired: 0, bands: { 'within-4h': 1 } },
    ]);
  });

  it('an expiry is counted apart from the answers, once over repeated runs', async () => {
    clock.advance(7 * day + hour);
    await runOfferDeadlines(deps, { limit: 100 });
    clock.advance(3 * day);
    await runOfferDeadlines(deps, { limit: 100 });
    await runOfferDeadlines(deps, { limit: 100 });
    expect((await deps.offers.get(id, artsOffer))?.state).toBe('expired');
    await expect(figuresOf('arts-for-all')).resolves.toEqual([
      { day: '2025-03-14', accepted: 0, declined: {}, expired: 1, bands: {} },
    ]);
  });
});

describe('the daily response-record job', () => {
  it("writes each active partner's record to the directory once; a partner with no answers and no record is left alone", async () => {
    clock.advance(3 * hour);
    await actOnPartnerOffer(deps, pantry, pantryOffer, 'accept', body({ version: 1 }));
    await actOnPartnerOffer(deps, arts, artsOffer, 'decline', body({ version: 1, reason: 'no-capacity' }));
    clock.advance(day);
    const before = await editor.get('partner', 'woodhouse-pantry');
    const summary = await records();
    expect(summary).toMatchObject({
      updated: 2,
      conflicted: 0,
      window: { from: '2024-12-06', to: '2025-03-05' },
    });
    expect((await editor.get('partner', 'woodhouse-pantry'))?.responseRecord).toEqual({
      answered: 1,
      accepted: 1,
      medianResponseHours: 4,
      declineReasons: {},
      expired: 0,
      windowDays: 90,
    });
    expect((await editor.get('partner', 'arts-for-all'))?.responseRecord).toMatchObject({
      answered: 1,
      accepted: 0,
      declineReasons: { 'no-capacity': 1 },
    });
    expect((await editor.get('partner', 'woodhouse-pantry'))?.version).toBe((before?.version ?? 0) + 1);
    // A partner offered nothing and with no record (food parcels was never offered) stays without one.
    expect((await editor.get('partner', 'advice-leeds'))?.responseRecord).toBeUndefined();

    // The next day, nothing new: nothing is written (no version moves, no re-index).
    clock.advance(day);
    expect(await records()).toMatchObject({ updated: 0 });
    expect((await editor.get('partner', 'woodhouse-pantry'))?.version).toBe((before?.version ?? 0) + 1);
  });

  it('answers older than the window drop out: the record goes back to nothing answered', async () => {
    await actOnPartnerOffer(deps, pantry, pantryOffer, 'accept', body({ version: 1 }));
    await records();
    clock.advance(91 * day);
    await records();
    expect((await editor.get('partner', 'woodhouse-pantry'))?.responseRecord).toMatchObject({
      answered: 0,
      accepted: 0,
    });
  });

  it("a dry run writes nothing; an admin's edit racing the write is kept, the record put on top of it", async () => {
    await actOnPartnerOffer(deps, pantry, pantryOffer, 'accept', body({ version: 1 }));
    const sample = await editor.get('partner', 'woodhouse-pantry');
    expect(
      await recomputeResponseRecords({ partners: editor, responses, clock }, { dryRun: true }),
    ).toMatchObject({
      updated: 1,
      steps: expect.arrayContaining([
        expect.objectContaining({ partnerId: 'woodhouse-pantry', step: 'would-update' }),
      ]),
    });
    await expect(editor.get('partner', 'woodhouse-pantry')).resolves.toEqual(sample);

    // An admin renames the partner between the job's read and its write.
    let raced = false;
    const racing: Pick<DirectoryEditor, 'get' | 'replace' | 'list'> = {
      get: (kind, partnerId) => editor.get(kind, partnerId),
      list: (kind) => editor.list(kind),
      replace: async (kind, record, expectedVersion) => {
        if (!raced) {
          raced = true;
          const stored = await editor.get('partner', record.id);
          if (stored)
            await editor.replace('partner', { ...stored, name: 'Woodhouse Pantry CIO' }, stored.version);
        }
        return editor.replace(kind, record, expectedVersion);
      },
    };
    expect(await recomputeResponseRecords({ partners: racing, responses, clock })).toMatchObject({
      updated: 1,
      conflicted: 0,
    });
    expect(await editor.get('partner', 'woodhouse-pantry')).toMatchObject({
      name: 'Woodhouse Pantry CIO',
      responseRecord: { answered: 1, accepted: 1 },
    });
  });
});
