import { HttpClient, jsonField, type HttpResponse } from './http-client.ts';
import { runLoad } from './load.ts';
import { withResourceUsage } from './resources.ts';
import { perSecond, summarise } from './stats.ts';
import type { BenchContext, Scenario, ScenarioName, ScenarioResult } from './types.ts';

/**
 * The intake scenarios: POST /referrals at a fixed count and concurrency, every answer checked for its status.
 * Bodies are serialised before the clock starts, so the client's own work in the timed window is just I/O.
 */

interface PreparedRequest {
  body: string;
  headers?: Record<string, string>;
}

interface RequestPlan {
  name: ScenarioName;
  description: string;
  concurrency: number;
  timeCapMs: number;
  expectedStatus: number;
  requests: PreparedRequest[];
  /** Awaited before a request is sent (not timed): lets a scenario order sends that must not overlap. */
  beforeSend?: (request: PreparedRequest) => Promise<void>;
  /** Told of each request as it is sent, with the promise of its answer. */
  afterSend?: (request: PreparedRequest, answered: Promise<unknown>) => void;
}

export interface MeasuredRequests {
  result: ScenarioResult;
  responses: HttpResponse[];
}

export async function measureRequests(context: BenchContext, plan: RequestPlan): Promise<MeasuredRequests> {
  const client = new HttpClient(context.stack.apiUrl, context.apiHeaders);
  try {
    const { value: outcome, usage } = await withResourceUsage(() =>
      runLoad(
        {
          label: plan.name,
          count: plan.requests.length,
          concurrency: plan.concurrency,
          timeCapMs: plan.timeCapMs,
        },
        async (index) => {
          const request = plan.requests[index] as PreparedRequest;
          await plan.beforeSend?.(request);
          const answered = client.postJson('/referrals', request.body, request.headers);
          plan.afterSend?.(request, answered);
          return answered;
        },
      ),
    );
    recordAccepted(context, outcome.results);
    const problems = statusProblems(outcome.results, plan.expectedStatus);
    if (outcome.timedOut) {
      problems.push(
        `time cap of ${plan.timeCapMs / 1000} s reached after ${outcome.results.length} requests`,
      );
    }
    const result: ScenarioResult = {
      name: plan.name,
      description: plan.description,
      count: plan.requests.length,
      completed: outcome.results.length,
      concurrency: plan.concurrency,
      durationMs: outcome.durationMs,
      throughputPerSec: perSecond(outcome.results.length, outcome.durationMs),
      latencyMs: summarise(outcome.results.map((r) => r.latencyMs)),
      statuses: countStatuses(outcome.results),
      timedOut: outcome.timedOut,
      passed: problems.length === 0,
      problems,
      details: {},
      resources: usage,
    };
    return { result, responses: outcome.results };
  } finally {
    client.close();
  }
}

function recordAccepted(context: BenchContext, responses: readonly HttpResponse[]): void {
  for (const response of responses) {
    const referralId = response.status === 202 ? jsonField(response.body, 'referralId') : undefined;
    if (referralId) context.accepted.add(referralId);
  }
}

export function countStatuses(responses: readonly HttpResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { status } of responses) counts[String(status)] = (counts[String(status)] ?? 0) + 1;
  return counts;
}

/** One line per unexpected status, with the first example, so a failure says what the system answered. */
export function statusProblems(responses: readonly HttpResponse[], expected: number): string[] {
  const unexpected = new Map<number, HttpResponse[]>();
  for (const response of responses) {
    if (response.status !== expected)
      unexpected.set(response.status, [...(unexpected.get(response.status) ?? []), response]);
  }
  return [...unexpected].map(([status, examples]) => {
    const first = examples[0];
    const detail = first?.error ?? first?.body.slice(0, 300) ?? '';
    return `${examples.length} answer(s) with status ${status} (expected ${expected}), e.g. ${detail}`;
  });
}

const scaled = (context: BenchContext, count: number): number =>
  Math.max(1, Math.round(count / context.scale));

export const intakeSequential: Scenario = {
  name: 'intake-sequential',
  description: 'POST /referrals one at a time, unique NHS numbers; 202 expected',
  async run(context) {
    const requests = Array.from({ length: scaled(context, 300) }, () => ({
      body: JSON.stringify(context.referrals.valid()),
    }));
    const plan = {
      name: this.name,
      description: this.description,
      concurrency: 1,
      timeCapMs: 120_000,
      expectedStatus: 202,
      requests,
    };
    return (await measureRequests(context, plan)).result;
  },
};

export const intakeConcurrent: Scenario = {
  name: 'intake-concurrent',
  description: 'POST /referrals with 16 in flight, unique NHS numbers; 202 expected',
  async run(context) {
    const requests = Array.from({ length: scaled(context, 1000) }, () => ({
      body: JSON.stringify(context.referrals.valid()),
    }));
    const plan = {
      name: this.name,
      description: this.description,
      concurrency: 16,
      timeCapMs: 120_000,
      expectedStatus: 202,
      requests,
    };
    return (await measureRequests(context, plan)).result;
  },
};

export const intakeRejects: Scenario = {
  name: 'intake-rejects',
  description: 'POST /referrals with a bad NHS number check digit, 16 in flight; 400 expected',
  async run(context) {
    const requests = Array.from({ length: scaled(context, 300) }, () => ({
      body: JSON.stringify(context.referrals.badNhsNumber()),
    }));
    const plan = {
      name: this.name,
      description: this.description,
      concurrency: 16,
      timeCapMs: 60_000,
      expectedStatus: 400,
      requests,
    };
    const { result, responses } = await measureRequests(context, plan);
    // A 400 for some other reason (a broken template, say) would make the figure meaningless.
    const otherReason = responses.filter((r) => r.status === 400 && !r.body.includes('patient.nhsNumber'));
    if (otherReason.length > 0) {
      result.problems.push(
        `${otherReason.length} 400 answer(s) did not name patient.nhsNumber, e.g. ${otherReason[0]?.body.slice(0, 300)}`,
      );
      result.passed = false;
    }
    return result;
  },
};

export const idempotentReplay: Scenario = {
  name: 'idempotent-replay',
  description: 'POST /referrals reusing 30 Idempotency-Key values (same body per key), 16 in flight',
  async run(context) {
    // The keys stay at 30 with --quick (fewer repeats instead), so there are always more keys than requests in
    // flight and the round-robin below keeps the sends of one key apart.
    const keys = 30;
    const sends = Math.max(keys, scaled(context, 300));
    const runId = Date.now().toString(36);
    const perKey = Array.from({ length: keys }, (_, k) => ({
      key: `bench-${runId}-${k}`,
      body: JSON.stringify(context.referrals.valid()),
    }));
    const requests = Array.from({ length: sends }, (_, i) => {
      const { key, body } = perKey[i % keys] as { key: string; body: string };
      return { body, headers: { 'Idempotency-Key': key } };
    });
    const previousSend = new Map<string, Promise<unknown>>();
    const plan = {
      name: this.name,
      description: this.description,
      concurrency: 16,
      timeCapMs: 60_000,
      expectedStatus: 202,
      requests,
      // A client retries a key after its previous answer, never alongside it: a send of a key still in progress
      // is answered 409 "retry shortly" by design, which would measure the conflict path instead of the replay.
      beforeSend: async (request: PreparedRequest) => {
        const key = request.headers?.['Idempotency-Key'] ?? '';
        await previousSend.get(key);
      },
      afterSend: (request: PreparedRequest, answered: Promise<unknown>) => {
        previousSend.set(request.headers?.['Idempotency-Key'] ?? '', answered);
      },
    };
    const { result, responses } = await measureRequests(context, plan);
    checkOneReferralPerKey(result, responses, keys);
    return result;
  },
};

/** Every send of a key must name the same referral, and the keys must name `keys` different referrals. */
function checkOneReferralPerKey(
  result: ScenarioResult,
  responses: readonly HttpResponse[],
  keys: number,
): void {
  const idsByKey = new Map<number, Set<string>>();
  let missing = 0;
  // runLoad returns answers in send order, and send i used key i % keys.
  responses.forEach((response, i) => {
    const id = response.status === 202 ? jsonField(response.body, 'referralId') : undefined;
    if (!id) {
      missing++;
      return;
    }
    const ids = idsByKey.get(i % keys) ?? new Set<string>();
    ids.add(id);
    idsByKey.set(i % keys, ids);
  });
  const distinct = new Set([...idsByKey.values()].flatMap((ids) => [...ids]));
  const split = [...idsByKey.values()].filter((ids) => ids.size > 1).length;
  result.details.keys = keys;
  result.details.distinctReferralIds = distinct.size;
  result.details.replayedAnswers = responses.length - missing - idsByKey.size;
  if (distinct.size !== keys) {
    result.problems.push(
      `${distinct.size} distinct referral ids came back for ${keys} Idempotency-Key values`,
    );
  }
  if (split > 0) result.problems.push(`${split} key(s) were answered with more than one referral id`);
  if (missing > 0) result.problems.push(`${missing} answer(s) carried no referral id`);
  result.passed = result.problems.length === 0;
}
