import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalAws } from '../../infra/local/local-aws.ts';
import { DynamoDirectoryEditor } from '#adapters/dynamodb/directory-editor.ts';
import { DynamoPartnerResponses } from '#adapters/dynamodb/partner-responses.ts';
import { runOfferDeadlines } from '#referral/application/offer-deadlines.ts';
import { deadlineDeps } from '../../functions/deadlines/deps.ts';
import type { Caller } from '#auth/caller.ts';
import type { PartnerOfferView } from '#referral/application/case-work.ts';
import type { ResponseRecordRunSummary } from '#reporting/application/recompute-response-records.ts';
import { offerIdFor } from '#referral/domain/offer.ts';
import type { CandidateVerdictRecord } from '#referral/domain/referral.ts';
import {
  apiEvent,
  contextFor,
  receiveAll,
  sampleReferral,
  sqsEvent,
  startHandlerRig,
  storedReferral,
  type ApiHandler,
  type HandlerRig,
} from '../support/local.ts';

// Partners' response records on the local stack: two partners offering arts in LS6 at the same coverage, neither
// with a record, so the one with the lower service id (a rival added for the test) is offered first. The rival
// declines (retried), arts-for-all accepts (retried), through the real case-work handler; the response-record job
// runs (its operator command as a dry run, then the scheduled handler); the partners' directory records show the
// figures, counted once, and a new referral's arts need is offered to arts-for-all first, because it accepts more.
// Left unanswered, that offer expires through the deadline job, counted once and apart from the answers.

const root = fileURLToPath(new URL('../../', import.meta.url));
const rival = 'it-rr-arts-rival';
const rivalService = 'svc-aa-rival-arts';

let rig: HandlerRig;
let aws: LocalAws;
let caseWork: ApiHandler;
let job: (event: unknown, context: unknown) => Promise<Omit<ResponseRecordRunSummary, 'steps'>>;
let editor: DynamoDirectoryEditor;

beforeAll(async () => {
  rig = await startHandlerRig();
  ({ aws } = rig);
  await aws.seedGeography();
  caseWork = ((await import('../../functions/case-work/handler.ts')) as { handler: ApiHandler }).handler;
  job = ((await import('../../functions/response-records/handler.ts')) as { handler: typeof job }).handler;
  editor = new DynamoDirectoryEditor(aws.documentClient, aws.tables.directory);
  await editor.create('partner', {
    id: rival,
    name: 'Rival Arts Collective',
    identifiers: {},
    channel: { kind: 'worklist' },
    status: 'active',
    version: 1,
  });
  await editor.create('service', {
    ...(await editor.get('service', 'svc-arts-studio'))!,
    id: rivalService,
    partnerId: rival,
    name: 'Rival Arts Afternoons',
    version: 1,
  });
});
afterAll(() => rig?.stop());

const partner = (id: string): Caller => ({
  subject: `it-partner-${id}`,
  role: 'partner',
  organisations: [id],
});
const act = async (id: string, offerId: string, action: string, body: unknown): Promise<PartnerOfferView> => {
  const response: APIGatewayProxyResult = await caseWork(
    apiEvent('POST', `/partner/offers/${offerId}/${action}`, body, {}, partner(id)),
    contextFor('caseWork'),
  );
  expect(response.statusCode, response.body).toBe(200);
  return JSON.parse(response.body) as PartnerOfferView;
};

/** An arts referral from Leeds, routed; its arts need's candidates in rank order. */
async function submitArts(): Promise<{
  referralId: string;
  candidates: CandidateVerdictRecord[];
}> {
  const body = { ...sampleReferral('leeds-arts-and-mental-health'), needs: ['arts'] };
  const response = await rig.intake(apiEvent('POST', '/referrals', body), contextFor('intake'));
  expect(response.statusCode, response.body).toBe(202);
  const { referralId } = JSON.parse(response.body) as { referralId: string };
  const messages = await receiveAll(aws, aws.queues.referrals.url);
  expect((await rig.router(sqsEvent('referrals', messages), contextFor('router'))).batchItemFailures).toEqual(
    [],
  );
  await receiveAll(aws, aws.queues.notifications.url);
  const referral = await storedReferral(aws, referralId);
  const arts = referral?.routing?.needs?.find((n) => n.category === 'arts');
  return { referralId, candidates: (arts?.candidates ?? []).filter((c) => c.verdict !== 'ruled-out') };
}

function responseRecordsCli(...args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/ops/response-records-cli.ts', ...args], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoDbEndpoint,
        METRICS_TABLE: aws.tables.metrics,
        DIRECTORY_TABLE: aws.tables.directory,
      },
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

describe('response records from partners answering', () => {
  it('answers counted once, the job writes each record, and the next referral ranks by it', async () => {
    // Neither partner has a record: equal fits, the lower service id first.
    const first = await submitArts();
    expect(first.candidates[0]?.serviceId).toBe(rivalService);
    const rivalOffer = offerIdFor(first.referralId, 'arts', rivalService);
    const decline = { version: 1, reason: 'no-capacity' };
    expect((await act(rival, rivalOffer, 'decline', decline)).state).toBe('declined');
    await act(rival, rivalOffer, 'decline', decline);
    // The need went on to arts-for-all (its next service by id), which accepts, twice.
    const next = (await storedReferral(aws, first.referralId))?.routing?.deliveries.find(
      (d) => d.recipient.id === 'arts-for-all',
    );
    expect(next).toBeDefined();
    const nextService = first.candidates.find((c) => c.serviceId !== rivalService)?.serviceId ?? '';
    const artsOffer = offerIdFor(first.referralId, 'arts', nextService);
    expect((await act('arts-for-all', artsOffer, 'accept', { version: 1 })).state).toBe('accepted');
    await act('arts-for-all', artsOffer, 'accept', { version: 1 });

    // The operator's dry run says what would change and writes nothing.
    const dry = await responseRecordsCli('--dry-run');
    expect(dry.code, dry.stdout).toBe(0);
    expect(dry.stdout).toMatch(new RegExp(`would-update +${rival} 0/1 accepted`));
    expect(dry.stdout).toMatch(/would-update +arts-for-all 1\/1 accepted/);
    expect((await editor.get('partner', rival))?.responseRecord).toBeUndefined();

    // The scheduled run writes them, each once.
    expect(await job({ schedule: 'responseRecords' }, contextFor('responseRecords'))).toMatchObject({
      updated: expect.any(Number),
      conflicted: 0,
    });
    expect((await editor.get('partner', rival))?.responseRecord).toEqual({
      answered: 1,
      accepted: 0,
      medianResponseHours: 1,
      declineReasons: { 'no-capacity': 1 },
      expired: 0,
      windowDays: 90,
    });
    expect((await editor.get('partner', 'arts-for-all'))?.responseRecord).toMatchObject({
      answered: 1,
      accepted: 1,
      declineReasons: {},
      expired: 0,
    });
    const version = (await editor.get('partner', rival))?.version;
    expect(await job({ schedule: 'responseRecords' }, contextFor('responseRecords'))).toMatchObject({
      updated: 0,
    });
    expect((await editor.get('partner', rival))?.version).toBe(version);

    // A new referral: arts-for-all now ranks above the rival, by its record.
    const second = await submitArts();
    expect(second.candidates[0]).toMatchObject({ partnerId: 'arts-for-all', verdict: 'chosen' });
    const rivalVerdict = second.candidates.find((c) => c.serviceId === rivalService);
    expect(rivalVerdict?.reason).toContain('accepts more referrals (100% against 0%)');

    // arts-for-all never answers that one: the deadline job reminds, then expires it (run again: nothing more),
    // and the expiry is counted apart from its answers.
    const later = Date.now() + 30 * 24 * 3_600_000;
    const deadlineRun = (at: number) =>
      runOfferDeadlines(
        deadlineDeps({
          documentClient: aws.documentClient,
          sqs: aws.sqs,
          tables: aws.tables,
          notificationsQueueUrl: aws.queues.notifications.url,
          clock: { now: () => new Date(at) },
        }),
        { limit: 50 },
      );
    expect(await deadlineRun(later)).toMatchObject({ reminded: 1 });
    expect(await deadlineRun(later + 3 * 24 * 3_600_000)).toMatchObject({ expired: 1 });
    await deadlineRun(later + 4 * 24 * 3_600_000);
    const days = await new DynamoPartnerResponses(aws.documentClient, aws.tables.metrics).figures(
      'arts-for-all',
      '2000-01-01',
      '2999-12-31',
    );
    expect(
      days.map((d) => [d.accepted, d.expired, Object.values(d.bands).reduce((a, b) => a + (b ?? 0), 0)]),
    ).toEqual([
      [1, 0, 1],
      [0, 1, 0],
    ]);
  });
});
