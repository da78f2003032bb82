import { Session } from 'node:inspector/promises';
import { DeleteQueueCommand } from '@aws-sdk/client-sqs';
import { queueEnvVar } from '#system/environment.ts';
import { startLocalGateway, type LocalGateway } from '../infra/local/gateway.ts';
import type { LocalStack } from '../infra/local/local-stack.ts';
import { HttpClient, type HttpResponse } from './http-client.ts';
import { statusProblems } from './intake.ts';
import { runLoad } from './load.ts';
import { createBenchQueue } from './raw-capacity.ts';
import type { ReferralFactory } from './referrals.ts';
import { overheadRatio } from './throughput-figures.ts';
import { unthrottled } from './bench-stack.ts';

/**
 * Where intake's time goes: the real intake handler and bench/minimal-intake.ts loaded in this process (as the
 * integration tests load handlers) behind an in-process gateway with the real authorizer, so gateway, handler,
 * SDK, dynalite and fauxqs all run on this one thread, and a CPU profile (V8's sampling profiler, through
 * node:inspector) of N sequential POSTs sees all of it. Samples are grouped by package (zod, @aws-sdk, @middy,
 * @aws-lambda-powertools, dynalite, ...) or by the project's top folder (shared, functions, infra); the difference
 * between the two handlers' groups, per request, is what the full handler adds over the same AWS calls.
 */

export interface ProfiledHandler {
  requests: number;
  msPerRequest: number;
  /** Sampled CPU per request by group, in ms, largest first. */
  cpuMsPerRequest: Record<string, number>;
}

export interface IntakeProfile {
  requests: number;
  full: ProfiledHandler;
  minimal: ProfiledHandler;
  /** Wall time per request, full over minimal, with everything on one thread. */
  ratio: number;
  /** Full minus minimal per request, by group, largest first (groups differing by at least 0.05 ms). */
  addedMsPerRequest: Record<string, number>;
  problems: string[];
}

const queueName = 'bench-intake-profile';

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { url: string; functionName: string } }>;
  samples?: number[];
  timeDeltas?: number[];
}

type Handler = (...args: never[]) => Promise<unknown>;

export async function profileIntake(
  stack: LocalStack,
  referrals: ReferralFactory,
  headers: Record<string, string>,
  requests: number,
): Promise<IntakeProfile> {
  const queueUrl = await createBenchQueue(stack, queueName);
  const variable = queueEnvVar('referrals');
  const previous = process.env[variable];
  // Both handlers read their queue's URL at load: loaded with the bench-only queue, so nothing is routed.
  process.env[variable] = queueUrl;
  let loaded: { authorizer: Handler; full: Handler; minimal: Handler };
  try {
    loaded = {
      authorizer: ((await import('../functions/authorizer/handler.ts')) as { handler: Handler }).handler,
      full: ((await import('../functions/intake/handler.ts')) as { handler: Handler }).handler,
      minimal: ((await import('./minimal-intake.ts')) as { handler: Handler }).handler,
    };
  } finally {
    if (previous === undefined) delete process.env[variable];
    else process.env[variable] = previous;
  }
  const gateways: LocalGateway[] = [];
  const clients: HttpClient[] = [];
  const session = new Session();
  session.connect();
  try {
    interface Sampled {
      requests: number;
      wallMs: number;
      selfMs: Record<string, number>;
      responses: HttpResponse[];
    }
    const variants = await Promise.all(
      [loaded.full, loaded.minimal].map(async (intake) => {
        const gateway = await startLocalGateway({
          port: 0,
          handlers: { authorizer: loaded.authorizer, intake },
          throttle: unthrottled,
        });
        gateways.push(gateway);
        const client = new HttpClient(gateway.url, headers);
        clients.push(client);
        const sampled: Sampled = { requests: 0, wallMs: 0, selfMs: {}, responses: [] };
        return { client, sampled };
      }),
    );
    const post = (client: HttpClient, count: number) =>
      runLoad({ label: 'intake profile', count, concurrency: 1, timeCapMs: 60_000, quiet: true }, () =>
        client.postJson('/referrals', JSON.stringify(referrals.valid())),
      );
    for (const { client } of variants) await post(client, 30);
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    // ABBA in quarters, so a change in the machine's load falls on both handlers alike.
    const [full, minimal] = variants as [(typeof variants)[0], (typeof variants)[0]];
    for (const { client, sampled } of [full, minimal, minimal, full]) {
      await session.post('Profiler.start');
      const outcome = await post(client, Math.max(1, Math.round(requests / 4)));
      const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
      sampled.requests += outcome.results.length;
      sampled.wallMs += outcome.durationMs;
      sampled.responses.push(...outcome.results);
      for (const [group, ms] of Object.entries(groupSelfTime(profile)))
        sampled.selfMs[group] = (sampled.selfMs[group] ?? 0) + ms;
    }
    const summary = ({ sampled }: (typeof variants)[0]): ProfiledHandler => ({
      requests: sampled.requests,
      msPerRequest: sampled.wallMs / Math.max(1, sampled.requests),
      cpuMsPerRequest: perRequest(sampled.selfMs, sampled.requests),
    });
    const fullProblems = statusProblems(full.sampled.responses, 202);
    const minimalProblems = statusProblems(minimal.sampled.responses, 202);
    return {
      requests,
      full: summary(full),
      minimal: summary(minimal),
      ratio: overheadRatio(full.sampled, minimal.sampled),
      addedMsPerRequest: added(summary(full).cpuMsPerRequest, summary(minimal).cpuMsPerRequest),
      problems: [
        ...fullProblems.map((p) => `profile, full handler: ${p}`),
        ...minimalProblems.map((p) => `profile, minimal handler: ${p}`),
      ],
    };
  } finally {
    session.disconnect();
    for (const client of clients) client.close();
    for (const gateway of gateways) await gateway.stop();
    await stack.aws.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  }
}

const projectRoot = new URL('../', import.meta.url).href;

/** The group a sampled frame belongs to: its npm package, the project's top folder, or the engine's own. */
export function groupOf(url: string, functionName: string): string {
  if (url === '') {
    // (idle), (program), (garbage collector), or a native function with no script.
    return functionName.startsWith('(') ? functionName : 'node (native)';
  }
  const inModules = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inModules) {
    const name = inModules[1] ?? '';
    // The SDK's packages and Smithy's are one thing here: the AWS SDK.
    if (name.startsWith('@aws-sdk/') || name.startsWith('@smithy/')) return 'aws sdk';
    if (name.startsWith('@aws-lambda-powertools/')) return 'powertools';
    if (/^(abstract-level|classic-level|memory-level|level|level-.*|browser-level|lazy|once)$/.test(name))
      return 'dynalite';
    return name;
  }
  // Node's own modules by area: node:_http_server and node:internal/http are "node http", and so on.
  if (url.startsWith('node:')) {
    const area =
      url
        .slice('node:'.length)
        .replace(/^internal\//, '')
        .split('/')[0] ?? '';
    return `node ${area.replace(/^_/, '').split('_')[0] ?? area}`;
  }
  if (url.startsWith(projectRoot)) return url.slice(projectRoot.length).split('/')[0] ?? 'project';
  return 'other';
}

/** Self time (ms) by group: each sample's time delta is charged to the frame it was taken in. */
export function groupSelfTime(profile: CpuProfile): Record<string, number> {
  const groupById = new Map(
    profile.nodes.map((n) => [n.id, groupOf(n.callFrame.url, n.callFrame.functionName)]),
  );
  const totals: Record<string, number> = {};
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  samples.forEach((id, i) => {
    const group = groupById.get(id) ?? 'other';
    totals[group] = (totals[group] ?? 0) + (deltas[i] ?? 0) / 1000;
  });
  return totals;
}

/** Not the handlers' work: waiting, and the profiler's own sampling (node:inspector). */
const notWork = new Set(['(idle)', 'node inspector']);

function perRequest(totals: Record<string, number>, requests: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(totals)
      .filter(([group]) => !notWork.has(group))
      .map(([group, ms]): [string, number] => [group, ms / Math.max(1, requests)])
      .sort((a, b) => b[1] - a[1]),
  );
}

function added(full: Record<string, number>, minimal: Record<string, number>): Record<string, number> {
  const groups = new Set([...Object.keys(full), ...Object.keys(minimal)]);
  return Object.fromEntries(
    [...groups]
      .map((group): [string, number] => [group, (full[group] ?? 0) - (minimal[group] ?? 0)])
      .filter(([, ms]) => Math.abs(ms) >= 0.05)
      .sort((a, b) => b[1] - a[1]),
  );
}
