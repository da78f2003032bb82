import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import cliProgress from 'cli-progress';
import { auditChainIds, DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { verifyChain, type AuditLink, type ChainVerdict } from '#audit/domain/chain.ts';
import { replay } from './replay.ts';
import type { ReplayTarget } from './replay-send.ts';

/**
 * The work of `npm run audit` (infra/ops/audit-cli.ts). Verify is read-only: it reads one chain, or every chain by
 * streaming a Scan of referral ids page by page and reading each chain consistently. Replay prints one referral's
 * trail as a verified timeline, then re-sends the messages that finish the steps it never completed (replay.ts;
 * --dry-run names them only). Exit code 0 when every chain verified (and replay's messages went), 1 when one did
 * not (each broken chain named with its first broken link), 2 is the CLI's for bad arguments.
 */

export interface AuditRunOptions {
  command: 'verify' | 'replay';
  referral?: string;
  json: boolean;
  /** Replay: name the messages it would re-send, send none. */
  dryRun?: boolean;
  /** Replay: where its messages go. */
  sqs?: ReplayTarget;
  tableName: string;
  endpoint: string;
  region: string;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** How many chains are read at once while verifying them all. */
const parallelChains = 8;

export async function run(options: AuditRunOptions): Promise<number> {
  const out = options.out ?? process.stdout;
  const err = options.err ?? process.stderr;
  const local = { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const dynamoDb = new DynamoDBClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint, ...local } : {}),
  });
  const client = DynamoDBDocumentClient.from(dynamoDb);
  const trail = new DynamoAuditLog(client, options.tableName);
  const print = (line: string) => out.write(`${line}\n`);
  try {
    if (options.command === 'replay') {
      const links = await trail.chainOf(options.referral ?? '');
      const referralId = options.referral ?? '';
      const verdict = verifyChain(referralId, links);
      return await replay(
        {
          referralId,
          json: options.json,
          dryRun: options.dryRun ?? false,
          sqs: options.sqs ?? { endpoint: '', region: options.region, queueUrls: {} },
          timeline: options.json ? [] : timeline(referralId, links, verdict),
          print,
          err,
        },
        links,
        verdict,
      );
    }
    if (options.referral !== undefined) {
      const links = await trail.chainOf(options.referral);
      const verdict = verifyChain(options.referral, links);
      if (links.length === 0) {
        if (options.json) print(JSON.stringify({ referralId: options.referral, verdict, links: 0 }));
        else print(`No audit trail for referral ${options.referral}`);
        return 1;
      }
      if (options.json) print(JSON.stringify(verdict));
      else print(verdictLine(verdict));
      return verdict.ok ? 0 : 1;
    }
    return await verifyAll(client, trail, options, print, err);
  } catch (error) {
    err.write(`npm run audit failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    dynamoDb.destroy();
  }
}

async function verifyAll(
  client: DynamoDBDocumentClient,
  trail: DynamoAuditLog,
  options: AuditRunOptions,
  print: (line: string) => void,
  err: NodeJS.WritableStream & { isTTY?: boolean },
): Promise<number> {
  // ItemCount is approximate in AWS (refreshed about every six hours): the bar is a guide, not a promise.
  const { Table } = await client.send(new DescribeTableCommand({ TableName: options.tableName }));
  let total = Math.max(Table?.ItemCount ?? 0, 1);
  const bar = err.isTTY
    ? new cliProgress.SingleBar(
        {
          stream: err,
          format: 'verifying {bar} {value}/{total} links scanned | {chains} chains | {broken} broken',
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  bar?.start(total, 0, { chains: 0, broken: 0 });
  let scanned = 0;
  let chains = 0;
  let links = 0;
  const broken: ChainVerdict[] = [];
  for await (const page of auditChainIds(client, options.tableName)) {
    for (let i = 0; i < page.ids.length; i += parallelChains) {
      const verdicts = await Promise.all(
        page.ids.slice(i, i + parallelChains).map(async (id) => {
          const chain = await trail.chainOf(id);
          links += chain.length;
          return verifyChain(id, chain);
        }),
      );
      for (const verdict of verdicts) {
        chains++;
        if (verdict.ok) continue;
        broken.push(verdict);
        if (options.json) continue;
        if (bar) bar.stop();
        print(verdictLine(verdict));
        bar?.start(total, scanned, { chains, broken: broken.length });
      }
    }
    scanned += page.scanned;
    // The estimate can be short (or 0, as dynalite reports): the bar's total grows with what was found.
    if (bar && scanned > total) {
      total = scanned;
      bar.setTotal(total);
    }
    if (bar) bar.update(scanned, { chains, broken: broken.length });
    else if (!options.json)
      err.write(`scanned ${scanned} links: ${chains} chains, ${broken.length} broken\n`);
  }
  bar?.stop();
  if (options.json) print(JSON.stringify({ chains, links, broken }));
  else
    print(
      broken.length === 0
        ? `All ${chains} audit chains verified (${links} links).`
        : `${broken.length} of ${chains} audit chains broken (${links} links read).`,
    );
  return broken.length === 0 ? 0 : 1;
}

/** One line naming a chain's verdict: `BROKEN referral <id> at seq <n> (<reason>): <why>`. */
export function verdictLine(verdict: ChainVerdict): string {
  return verdict.ok
    ? `verified referral ${verdict.referralId}: ${verdict.length} links, head ${verdict.head}`
    : `BROKEN referral ${verdict.referralId} at seq ${verdict.seq} (${verdict.reason}): ${verdict.why}`;
}

/** The trail as a person reads it: one line per link in order, who and what, the break marked where it is. */
export function timeline(referralId: string, links: readonly AuditLink[], verdict: ChainVerdict): string[] {
  if (links.length === 0) return [`No audit trail for referral ${referralId}`];
  const lines = [`Audit trail of referral ${referralId}: ${links.length} links`];
  for (const link of links) {
    if (!verdict.ok && verdict.seq === link.seq && verdict.reason === 'missing')
      lines.push(`  !! link ${verdict.seq} missing: ${verdict.why}`);
    const who = link.who
      ? `${link.who.principal} (${[link.who.role, link.who.organisation].filter(Boolean).join(', ')})`
      : link.actor;
    const request = link.requestId ? `  request ${link.requestId}` : '';
    lines.push(
      `  ${String(link.seq).padStart(4)}  ${link.at}  ${link.action.padEnd(30)} by ${who}${request}`,
    );
    if (link.detail && Object.keys(link.detail).length > 0)
      lines.push(`        ${JSON.stringify(link.detail)}`);
    if (!verdict.ok && verdict.seq === link.seq && verdict.reason !== 'missing')
      lines.push(`  !! chain broken here (${verdict.reason}): ${verdict.why}`);
  }
  lines.push(verdict.ok ? `Chain verified: head ${verdict.head}` : verdictLine(verdict));
  return lines;
}
