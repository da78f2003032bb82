import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalStack } from '../infra/local/local-stack.ts';
import { startBenchStack } from './bench-stack.ts';
import { callsBetween } from './aws-calls.ts';
import { HttpClient } from './http-client.ts';
import { loadTemplates, ReferralFactory } from './referrals.ts';
import { writeJson } from './report.ts';
import type { RequestCount, RequestTally } from '#platform/request-accounting.ts';

/**
 * What one referral costs in AWS requests, step by step: `npm run bench -- --only requests`.
 *
 * It sends the Leeds sample (events/referrals/leeds-arts-and-mental-health.json: arts and mental health at A81001,
 * so a link-worker team and two partners, three webhooks) one referral at a time, each with a fresh test NHS number,
 * and waits for its last webhook and for the queues to be idle before the next. The functions' own SDK middleware
 * (shared/platform/request-accounting.ts) logs each invocation's requests by operation and table, with the read and
 * write units DynamoDB reported; they are added up per referral here. The local servers' own counts are the cross
 * check: every DynamoDB request a function made must also have arrived at the server, and the SQS requests there
 * include the pollers' receives and deletes (in AWS, Lambda's event source mappings make those, and they are billed).
 *
 * The first referral pays for what the functions cache (the directory's practices, teams, partners: see
 * shared/adapters/dynamodb/directory-cache.ts); the figures are the mean of the referrals after it.
 */

export interface RequestsOptions {
  referrals: number;
}

/** AWS list prices, eu-west-2 (London), on-demand / standard, as published after the 1 Nov 2024 DynamoDB cut. */
export const prices = {
  region: 'eu-west-2',
  asOf: '2024-11-01',
  dynamoDbPerMillionWriteUnits: 0.7425,
  dynamoDbPerMillionReadUnits: 0.1485,
  sqsPerMillionRequests: 0.4,
  source:
    'aws.amazon.com/dynamodb/pricing/on-demand and aws.amazon.com/sqs/pricing (Europe (London)); not re-checked ' +
    'here: the machine reaches no AWS page',
} as const;

const resultsFile = new URL('./results/requests-latest.json', import.meta.url);
const webhooksPerReferral = 3;

interface Invocation {
  fn: string;
  tally: RequestTally;
}

/** The functions' `AWS requests` debug lines, parsed as they arrive. */
class TallyLog {
  readonly invocations: Invocation[] = [];
  readonly write = (line: string): void => {
    if (!line.includes('"AWS requests"')) return;
    const json = line.slice(line.indexOf('{'));
    try {
      const parsed = JSON.parse(json) as {
        awsRequests?: RequestTally;
        function_name?: string;
        service?: string;
      };
      if (parsed.awsRequests)
        this.invocations.push({
          fn: parsed.function_name ?? parsed.service ?? '?',
          tally: parsed.awsRequests,
        });
    } catch {
      // A line cut by the log's own framing: the cross check against the servers' counts would show it.
    }
  };
  take(): Invocation[] {
    return this.invocations.splice(0);
  }
}

interface Row extends RequestCount {
  step: string;
  request: string;
}

function rowsOf(invocations: Invocation[], perReferral: number): Row[] {
  const rows = new Map<string, Row>();
  for (const { fn, tally } of invocations) {
    for (const [request, count] of Object.entries(tally)) {
      const key = `${fn}\u0000${request}`;
      const row = rows.get(key) ?? { step: fn, request, requests: 0, readUnits: 0, writeUnits: 0 };
      row.requests += count.requests / perReferral;
      row.readUnits += count.readUnits / perReferral;
      row.writeUnits += count.writeUnits / perReferral;
      rows.set(key, row);
    }
  }
  const stepOrder = ['intake', 'router', 'notifier'];
  const rank = (step: string) => (stepOrder.includes(step) ? stepOrder.indexOf(step) : stepOrder.length);
  return [...rows.values()].sort(
    (a, b) => rank(a.step) - rank(b.step) || a.step.localeCompare(b.step) || b.requests - a.requests,
  );
}

const sum = (rows: Row[], field: keyof RequestCount, prefix: string) =>
  rows.filter((r) => r.request.startsWith(prefix)).reduce((total, r) => total + r[field], 0);

async function followOne(
  stack: LocalStack,
  client: HttpClient,
  factory: ReferralFactory,
): Promise<{ referralId: string; webhooks: number }> {
  const before = stack.receiver.received.length;
  const response = await client.postJson('/referrals', JSON.stringify(factory.valid()));
  if (response.status !== 202) throw new Error(`POST answered ${response.status}: ${response.body}`);
  const { referralId } = JSON.parse(response.body) as { referralId: string };
  const deadline = Date.now() + 20_000;
  for (;;) {
    const arrived = stack.receiver.received
      .slice(before)
      .filter((d) => d.raw.body.includes(referralId)).length;
    if (arrived >= webhooksPerReferral) {
      // Let the last delivery's record and count land (they follow the POST) before the next referral starts.
      await sleep(300);
      return { referralId, webhooks: arrived };
    }
    if (Date.now() > deadline) throw new Error(`referral ${referralId}: ${arrived} webhook(s) after 20 s`);
    await sleep(20);
  }
}

/**
 * The functions' worker threads write their logs to this process's stdout (as Lambda's go to CloudWatch): read them
 * there, line by line, and keep the functions' JSON lines off the progress output.
 */
function captureFunctionLogs(log: TallyLog): () => void {
  const write = process.stdout.write.bind(process.stdout);
  let partial = '';
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = partial + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const lines = text.split('\n');
    partial = lines.pop() ?? '';
    const shown = lines.filter((line) => {
      if (!line.startsWith('{"level"')) return true;
      log.write(line);
      return false;
    });
    if (shown.length === 0) return true;
    return write(`${shown.join('\n')}\n`, ...(rest as []));
  }) as typeof process.stdout.write;
  return () => {
    process.stdout.write = write;
  };
}

export async function requestsBench(options: RequestsOptions): Promise<number> {
  const log = new TallyLog();
  const restoreStdout = captureFunctionLogs(log);
  const { stack, headers } = await startBenchStack('bench-requests', { functionLogLevel: 'DEBUG' });
  try {
    const client = new HttpClient(stack.apiUrl, headers);
    const leeds = loadTemplates().find((t) => t.practiceOds === 'A81001' && t.needs.includes('arts'));
    if (!leeds) throw new Error('the Leeds sample referral is missing from events/referrals/');
    const factory = new ReferralFactory([leeds]);

    console.log('requests: the first referral (what the functions cache is read here)');
    await followOne(stack, client, factory);
    const first = rowsOf(log.take(), 1);
    const serversBefore = stack.aws.requestCounts();
    console.log(`requests: ${options.referrals} more, one at a time, each to its third webhook`);
    for (let i = 0; i < options.referrals; i++) {
      await followOne(stack, client, factory);
      if ((i + 1) % 5 === 0 || i + 1 === options.referrals)
        console.log(`  ${i + 1}/${options.referrals} referrals delivered`);
    }
    const rows = rowsOf(log.take(), options.referrals);
    const servers = callsBetween(serversBefore, stack.aws.requestCounts());
    client.close();

    const perServer = (prefix: string) =>
      Object.entries(servers)
        .filter(([op]) => op.startsWith(prefix))
        .reduce((total, [, n]) => total + n / options.referrals, 0);
    const totals = {
      dynamoDbRequests: sum(rows, 'requests', 'DynamoDB.'),
      sqsRequestsByFunctions: sum(rows, 'requests', 'SQS.'),
      readUnits: sum(rows, 'readUnits', 'DynamoDB.'),
      writeUnits: sum(rows, 'writeUnits', 'DynamoDB.'),
      dynamoDbRequestsAtServer: perServer('DynamoDB.'),
      sqsRequestsAtServer: perServer('AmazonSQS.'),
    };
    const costPerMillion = {
      dynamoDbWrites: totals.writeUnits * prices.dynamoDbPerMillionWriteUnits,
      dynamoDbReads: totals.readUnits * prices.dynamoDbPerMillionReadUnits,
      sqs: totals.sqsRequestsAtServer * prices.sqsPerMillionRequests,
    };
    printTable(rows);
    console.log(
      `\nper referral (mean of ${options.referrals}, after the first): DynamoDB ${fmt(totals.dynamoDbRequests)} requests ` +
        `(${fmt(totals.readUnits)} read units, ${fmt(totals.writeUnits)} write units); SQS ${fmt(totals.sqsRequestsByFunctions)} ` +
        `sent by the functions, ${fmt(totals.sqsRequestsAtServer)} at the server with the pollers' receives and deletes`,
    );
    console.log(
      `the first referral: DynamoDB ${fmt(sum(first, 'requests', 'DynamoDB.'))} requests (the caches filling)`,
    );
    console.log(
      `cost per million referrals at ${prices.region} list prices (${prices.asOf}): DynamoDB writes $${fmt(costPerMillion.dynamoDbWrites)}, ` +
        `reads $${fmt(costPerMillion.dynamoDbReads)}, SQS $${fmt(costPerMillion.sqs)}; ` +
        `total $${fmt(costPerMillion.dynamoDbWrites + costPerMillion.dynamoDbReads + costPerMillion.sqs)}`,
    );
    const consistent = Math.abs(totals.dynamoDbRequests - totals.dynamoDbRequestsAtServer) < 0.01;
    console.log(
      consistent
        ? 'cross check: the functions counted every DynamoDB request the server received'
        : `CROSS CHECK FAILED: the server received ${fmt(totals.dynamoDbRequestsAtServer)} DynamoDB requests per referral`,
    );
    writeJson(resultsFile, {
      generatedAt: new Date().toISOString(),
      command: `npm run bench -- --only requests${options.referrals === 20 ? '' : ` --referrals ${options.referrals}`}`,
      referral: 'events/referrals/leeds-arts-and-mental-health.json (a team and two partners)',
      referrals: options.referrals,
      perReferral: rows,
      firstReferral: first,
      totals,
      atServers: servers,
      prices,
      costPerMillion,
      consistent,
    });
    console.log(`\nResults written to ${resultsFile.pathname}`);
    return consistent ? 0 : 1;
  } finally {
    await stack.stop();
    restoreStdout();
  }
}

const fmt = (n: number) => (Math.round(n * 100) / 100).toLocaleString('en-GB');

function printTable(rows: Row[]): void {
  const header = ['step', 'request', 'per referral', 'read units', 'write units'];
  const lines = rows.map((r) => [r.step, r.request, fmt(r.requests), fmt(r.readUnits), fmt(r.writeUnits)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const show = (cells: string[]) =>
    cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  console.log(`\n${show(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const line of lines) console.log(show(line));
}
