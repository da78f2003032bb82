import { readdirSync, readFileSync } from 'node:fs';
import { defineCommand } from '../cli/args.ts';
import { runCaseWork, type TokenClaims } from './demo-case-work.ts';
import type { LocalStack } from './local-stack.ts';
import type { ReferralStatusView } from '#referral/application/referral-status.ts';

/**
 * `npm run demo`: posts the sample referrals in events/referrals/ to the running stack (API_URL, default
 * http://127.0.0.1:3000), or to one it starts in memory if none is running, and shows where each went. Then it sends
 * a few dozen synthetic referrals and works them as the teams and partners would (infra/local/demo-case-work.ts), so
 * the observatory page (/observatory) has figures in every chart.
 */

defineCommand({
  synopsis: ['npm run demo'],
  summary:
    'Posts the sample referrals in events/referrals/ to the running local stack, or to one it starts in memory if\n' +
    'none answers, and shows where each went (team, partners, deliveries, unmet needs); then sends synthetic\n' +
    'referrals and works them as link workers and partners would, so the observatory page has figures.',
  options: {},
  environment: {
    API_URL: 'the stack to send referrals to (http://127.0.0.1:$PORT)',
    PORT: 'API port, when API_URL is unset (3000)',
    ISSUER_URL: 'development token issuer (http://127.0.0.1:$ISSUER_PORT)',
    ISSUER_PORT: 'issuer port, when ISSUER_URL is unset (3002)',
  },
  examples: ['npm run demo', 'API_URL=http://127.0.0.1:4000 ISSUER_PORT=4002 npm run demo'],
}).parse();
// Loaded once the arguments are good, so --help and a mistyped flag answer at once, not after the stack has loaded.
const { startLocalStack } = await import('./local-stack.ts');

const referralsDir = new URL('../../events/referrals/', import.meta.url);
const apiUrlFromEnv = process.env.API_URL ?? `http://127.0.0.1:${process.env.PORT ?? '3000'}`;
const issuerUrlFromEnv = process.env.ISSUER_URL ?? `http://127.0.0.1:${process.env.ISSUER_PORT ?? '3002'}`;
const samplePractices = ['A81001', 'A81002', 'B82001', 'B82002', 'C83001'];

/** A GP-system token for the sample practices, from the stack's development issuer. */
async function demoToken(issuerUrl: string): Promise<string> {
  return mintAt(issuerUrl, { role: 'gp-system', ods: samplePractices, subject: 'demo-gp-system' });
}

/** A token for any claims from the development issuer at `issuerUrl`. */
async function mintAt(issuerUrl: string, claims: TokenClaims): Promise<string> {
  const response = await fetch(`${issuerUrl}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(claims),
  });
  if (!response.ok)
    throw new Error(`The development issuer at ${issuerUrl} refused a token (${response.status})`);
  return ((await response.json()) as { token: string }).token;
}

async function isRunning(apiUrl: string): Promise<boolean> {
  try {
    await fetch(`${apiUrl}/referrals/00000000-0000-4000-8000-000000000000`, {
      signal: AbortSignal.timeout(2000),
    });
    return true;
  } catch {
    return false;
  }
}

async function waitUntilSettled(
  apiUrl: string,
  headers: Record<string, string>,
  referralId: string,
  timeoutMs = 20_000,
): Promise<ReferralStatusView> {
  const deadline = Date.now() + timeoutMs;
  let view: ReferralStatusView | undefined;
  while (Date.now() < deadline) {
    const response = await fetch(`${apiUrl}/referrals/${referralId}`, { headers });
    view = (await response.json()) as ReferralStatusView;
    const settled = view.status !== 'received' && view.deliveries.every((d) => d.status === 'delivered');
    if (settled) return view;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (!view) throw new Error(`referral ${referralId} could not be read`);
  return view;
}

function describe(view: ReferralStatusView): string {
  const lines = [
    `  status      ${view.status} (area ${view.area ?? '?'})`,
    `  team        ${view.team ? `${view.team.name}: ${view.team.reason}` : 'none'}`,
  ];
  if (view.partners.length === 0) lines.push('  partners    none matched');
  for (const [i, p] of view.partners.entries()) {
    lines.push(
      `  ${i === 0 ? 'partners   ' : '           '} ${p.category} -> ${p.partnerName} (${p.serviceName})`,
    );
  }
  const delivered = view.deliveries.filter((d) => d.status === 'delivered').length;
  lines.push(
    `  deliveries  ${delivered}/${view.deliveries.length} delivered: ` +
      view.deliveries.map((d) => `${d.recipient.name} [${d.content}, ${d.status}]`).join('; '),
  );
  if (view.unmetNeeds.length === 0) lines.push('  unmet       none');
  for (const [i, u] of view.unmetNeeds.entries())
    lines.push(`  ${i === 0 ? 'UNMET NEED ' : '           '} ${u.reason}`);
  return lines.join('\n');
}

let started: LocalStack | undefined;
let apiUrl = apiUrlFromEnv;
let issuerUrl = issuerUrlFromEnv;
if (!(await isRunning(apiUrl))) {
  console.log(`No stack answering at ${apiUrl}; starting one in memory for this demo...`);
  started = await startLocalStack({ port: 0 });
  apiUrl = started.apiUrl;
  issuerUrl = started.issuer.issuer;
}
const headers = { 'Content-Type': 'application/json', Authorization: `Bearer ${await demoToken(issuerUrl)}` };

let unmet = 0;
try {
  const files = readdirSync(referralsDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  for (const file of files) {
    const body = readFileSync(new URL(file, referralsDir), 'utf8');
    const response = await fetch(`${apiUrl}/referrals`, { method: 'POST', headers, body });
    const answer = (await response.json()) as { referralId?: string };
    console.log(`\n${file} -> HTTP ${response.status}, referral ${answer.referralId ?? '(none)'}`);
    if (response.status !== 202 || !answer.referralId) {
      console.log(JSON.stringify(answer, null, 2));
      continue;
    }
    const view = await waitUntilSettled(apiUrl, headers, answer.referralId);
    unmet += view.unmetNeeds.length;
    console.log(describe(view));
  }

  console.log('\nAnd a referral with a mistyped NHS number:');
  const sample = JSON.parse(readFileSync(new URL(files[0] ?? '', referralsDir), 'utf8')) as {
    patient: { nhsNumber: string };
  };
  sample.patient.nhsNumber = '999 526 0183';
  const rejected = await fetch(`${apiUrl}/referrals`, {
    method: 'POST',
    headers,
    body: JSON.stringify(sample),
  });
  const outcome = (await rejected.json()) as { issue?: Array<{ diagnostics?: string }> };
  console.log(`  HTTP ${rejected.status}: ${outcome.issue?.map((i) => i.diagnostics).join('; ')}`);
  console.log(`\n${files.length} referrals sent; ${unmet} unmet need(s) recorded for commissioners.`);

  console.log(
    '\nAnd the figures for the observatory: synthetic referrals from every practice, worked as the teams',
  );
  console.log('and partners would (accept, contact, start, close, decline with reasons, outcome measures):');
  const work = await runCaseWork({
    apiUrl,
    mint: (claims) => mintAt(issuerUrl, claims),
    log: (line) => console.log(line),
  });
  const actions = Object.entries(work.teamActions).map(([action, n]) => `${action} ${n}`);
  console.log(
    `  ${work.referrals} referrals; partners accepted ${work.partnerAccepted} and declined ${work.partnerDeclined} ` +
      `offers; teams: ${actions.join(', ') || 'nothing new'}; ${work.outcomeSets} outcome measure set(s) recorded.`,
  );
  console.log(`  See them at ${apiUrl}/observatory (sign in with: npm run -s token -- --role commissioner)`);
} finally {
  await started?.stop();
}
