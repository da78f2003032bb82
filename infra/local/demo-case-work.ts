import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TokenRequest } from './dev-issuer.ts';

/**
 * The demo's second half (`npm run demo`, and the observatory's browser test): a few dozen synthetic referrals from
 * every sample practice, then the case work a link-worker team and the partners would do on them, all over the API
 * with development tokens, as real users would. It leaves figures in every chart of the observatory page: volumes
 * by category, a funnel with declines and closures by reason, take-up and unmet needs by deprivation decile (Blackpool
 * and Hastings have no provider for some needs, and their most deprived neighbourhoods are among the samples),
 * partners' answers, and outcome measures at baseline and follow-up.
 *
 * Idempotent-ish: each referral is sent with its own Idempotency-Key (a second run gets the same referrals back) and
 * every action is taken only if the API still offers it, so running it twice adds nothing but the first run's work.
 */

/** What a development token is minted for: a role, its organisation and a subject (infra/local/dev-issuer.ts). */
export type TokenClaims = TokenRequest;

export interface CaseWorkOptions {
  apiUrl: string;
  /** A development token for the claims (the local issuer). */
  mint: (claims: TokenClaims) => Promise<string>;
  log?: (line: string) => void;
}

export interface CaseWorkSummary {
  referrals: number;
  partnerAccepted: number;
  partnerDeclined: number;
  teamActions: Record<string, number>;
  outcomeSets: number;
}

interface Directory {
  practices: Array<{ ods: string; area: string }>;
  partners: Array<{ id: string }>;
}
const directory = JSON.parse(
  readFileSync(new URL('../../events/directory.json', import.meta.url), 'utf8'),
) as Directory;

/** Sample postcodes by district (events/geography/nspl-sample.csv), most deprived first. */
const postcodes: Record<string, string[]> = {
  LS6: ['LS6 1AA', 'LS6 1BA', 'LS6 1HT', 'LS6 2AB', 'LS6 3HN'],
  LS2: ['LS2 3AA', 'LS2 7DJ', 'LS2 8AY'],
  FY1: ['FY1 4AB', 'FY1 4BA', 'FY1 5AA'],
  FY3: ['FY3 7AA', 'FY3 8BD', 'FY3 9DL'],
  TN34: ['TN34 1AA', 'TN34 2DA', 'TN34 3HP'],
  TN37: ['TN37 6AA', 'TN37 7LD'],
};

/**
 * What each practice's patients are referred for, in turn. Blackpool has no benefits, housing or arts provider and
 * Hastings no employment, arts or food one (events/directory.json); St Leonards (C83002) has no link-worker team.
 */
const needsByPractice: Record<string, string[][]> = {
  A81001: [
    ['arts'],
    ['arts', 'mental-health'],
    ['nature'],
    ['food'],
    ['mental-health'],
    ['physical-activity'],
  ],
  A81002: [['arts'], ['benefits-advice'], ['employment-support'], ['debt-advice'], ['nature', 'arts']],
  B82001: [
    ['benefits-advice'],
    ['physical-activity'],
    ['befriending'],
    ['arts'],
    ['debt-advice', 'housing-advice'],
  ],
  B82002: [['benefits-advice', 'nature'], ['befriending'], ['housing-advice'], ['physical-activity']],
  C83001: [['employment-support'], ['befriending'], ['arts'], ['health-coaching'], ['food', 'befriending']],
  C83002: [['befriending'], ['health-coaching']],
};
const perPractice: Record<string, number> = {
  A81001: 9,
  A81002: 7,
  B82001: 7,
  B82002: 6,
  C83001: 7,
  C83002: 2,
};

/** How far the team takes each referral, by its number: most are worked, some declined, one in ten left alone. */
type Plan =
  | { kind: 'close'; reason: 'completed' | 'patient-withdrew' }
  | { kind: 'start' | 'contact' | 'accept' | 'leave' }
  | { kind: 'decline'; reason: 'declined-by-patient' | 'patient-unreachable' };
const plans: Plan[] = [
  { kind: 'close', reason: 'completed' },
  { kind: 'close', reason: 'completed' },
  { kind: 'start' },
  { kind: 'contact' },
  { kind: 'close', reason: 'patient-withdrew' },
  { kind: 'start' },
  { kind: 'accept' },
  { kind: 'decline', reason: 'declined-by-patient' },
  { kind: 'decline', reason: 'patient-unreachable' },
  { kind: 'leave' },
];

/** A valid NHS number (Modulus 11) in the 999 range, which is never issued to a real person. */
export function syntheticNhsNumber(n: number): string {
  for (let candidate = 999_700_000 + n * 13; ; candidate++) {
    const digits = String(candidate).padStart(9, '0');
    const sum = [...digits].reduce((total, digit, i) => total + Number(digit) * (10 - i), 0);
    const check = 11 - (sum % 11);
    if (check === 10) continue;
    return `${digits}${check === 11 ? 0 : check}`;
  }
}

/** A stable UUID from some text: the same outcome set on every run, so a second run records nothing new. */
function stableUuid(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${'89ab'[parseInt(hex[16] ?? '0', 16) % 4]}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const ukToday = (): string =>
  new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/** One call; a 429 or a transient 409 (the first of two identical requests still running) waits and tries again. */
async function call(
  apiUrl: string,
  token: string,
  method: string,
  route: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${apiUrl}${route}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
    const retry = response.status === 429 || (response.status === 409 && response.headers.has('Retry-After'));
    if (!retry || attempt >= 20) return { status: response.status, body: parsed };
    await sleep(Math.min(2000, 1000 * Number(response.headers.get('Retry-After') ?? '0.2') || 200));
  }
}

/** Runs `work` on each item, `width` at a time. */
async function inTurn<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

interface Sent {
  n: number;
  referralId: string;
  plan: Plan;
}

export async function runCaseWork({
  apiUrl,
  mint,
  log = () => {},
}: CaseWorkOptions): Promise<CaseWorkSummary> {
  const gp = await mint({
    role: 'gp-system',
    ods: directory.practices.map((p) => p.ods),
    subject: 'demo-observatory-gp',
  });

  // 1. Referrals from every practice.
  const requests = directory.practices.flatMap((practice) =>
    Array.from({ length: perPractice[practice.ods] ?? 0 }, (_, k) => ({ practice, k })),
  );
  const sent: Sent[] = [];
  await inTurn([...requests.entries()], 8, async ([n, { practice, k }]) => {
    const areaPostcodes = postcodes[practice.area] ?? [];
    const needs = needsByPractice[practice.ods] ?? [['befriending']];
    const answer = await call(
      apiUrl,
      gp,
      'POST',
      '/referrals',
      {
        patient: {
          nhsNumber: syntheticNhsNumber(n),
          nhsNumberVerification: 'verified',
          name: { given: 'Demo', family: `Patient ${n + 1}` },
          birthDate: `${1940 + ((n * 7) % 66)}-0${1 + (n % 9)}-1${n % 10}`,
          gender: n % 3 === 0 ? 'male' : 'female',
          contact: { phone: `0113 496 ${String(1000 + n).padStart(4, '0')}`, preferred: 'phone' },
          ...(areaPostcodes.length > 0 ? { postcode: areaPostcodes[k % areaPostcodes.length] } : {}),
        },
        practiceOds: practice.ods,
        needs: needs[k % needs.length],
        consent: [{ recipient: 'any-vcse', granted: true }],
      },
      { 'Idempotency-Key': `demo-observatory-${n}` },
    );
    const referralId = answer.body.referralId;
    if (answer.status !== 202 || typeof referralId !== 'string')
      throw new Error(`a demo referral was refused (${answer.status}): ${JSON.stringify(answer.body)}`);
    sent.push({ n, referralId, plan: plans[n % plans.length] as Plan });
  });
  log(`  ${sent.length} synthetic referrals sent; waiting for them to be routed...`);

  // 2. Wait until each is routed (or found to have no team).
  const teams = new Map<string, string>();
  const deadline = Date.now() + 30_000;
  let waiting = [...sent];
  while (waiting.length > 0 && Date.now() < deadline) {
    const still: Sent[] = [];
    await inTurn(waiting, 4, async (item) => {
      const view = await call(apiUrl, gp, 'GET', `/referrals/${item.referralId}`);
      if (view.body.status === 'received' || view.status !== 200) return void still.push(item);
      const team = (view.body.team as { id?: string } | null)?.id;
      if (team) teams.set(item.referralId, team);
    });
    waiting = still;
    if (waiting.length > 0) await sleep(250);
  }
  if (waiting.length > 0) log(`  ${waiting.length} referral(s) not routed within 30 s; working the rest`);

  // 3. Partners answer their offers: most accept, one in five declines with a coded reason.
  let partnerAccepted = 0;
  let partnerDeclined = 0;
  await inTurn(directory.partners, 3, async ({ id }) => {
    const token = await mint({ role: 'partner', partner: id, subject: `demo-observatory-${id}` });
    const offers = await call(apiUrl, token, 'GET', '/partner/offers?status=offered&limit=100');
    const ours = new Set(sent.map((s) => s.referralId));
    for (const offer of (offers.body.items ?? []) as Array<{
      offerId: string;
      referralId: string;
      version: number;
    }>) {
      if (!ours.has(offer.referralId)) continue;
      const hash = parseInt(createHash('sha256').update(offer.offerId).digest('hex').slice(0, 6), 16);
      const decline = hash % 5 === 0;
      const path = `/partner/offers/${encodeURIComponent(offer.offerId)}/${decline ? 'decline' : 'accept'}`;
      const answer = await call(apiUrl, token, 'POST', path, {
        version: offer.version,
        state: 'offered',
        ...(decline ? { reason: hash % 2 === 0 ? 'no-capacity' : 'not-eligible' } : {}),
      });
      if (answer.status !== 200) continue;
      if (decline) partnerDeclined++;
      else partnerAccepted++;
    }
  });

  // 4. Each team works its referrals as far as the plan says, one action at a time while the API offers it.
  const teamActions: Record<string, number> = {};
  let outcomeSets = 0;
  const tokens = new Map<string, Promise<string>>();
  const teamToken = (team: string) => {
    if (!tokens.has(team))
      tokens.set(team, mint({ role: 'link-worker', team, subject: `demo-observatory-${team}` }));
    return tokens.get(team) as Promise<string>;
  };
  // Each team's routed referrals in one worklist read: a routed referral may be accepted or declined (docs/api.md).
  const routed = new Map<string, Promise<Map<string, Answer>>>();
  const routedOf = (team: string) => {
    if (!routed.has(team))
      routed.set(
        team,
        teamToken(team).then(async (token) => {
          const list = await call(apiUrl, token, 'GET', '/team/referrals?status=routed&limit=100');
          const items = (list.body.items ?? []) as Array<{ referralId: string; version: number }>;
          return new Map(
            items.map((item) => [
              item.referralId,
              { status: 200, body: { version: item.version, actions: ['accept', 'decline'] } },
            ]),
          );
        }),
      );
    return routed.get(team) as Promise<Map<string, Answer>>;
  };
  const today = ukToday();
  await inTurn(
    sent.filter((s) => teams.has(s.referralId)),
    8,
    async ({ n, referralId, plan }) => {
      const token = await teamToken(teams.get(referralId) as string);
      const steps: Array<[string, Record<string, unknown>]> =
        plan.kind === 'decline'
          ? [['decline', { reason: plan.reason }]]
          : ([
              ['accept', {}],
              ['contact', { outcome: 'made', channel: n % 2 === 0 ? 'phone' : 'in-person' }],
              ['start', {}],
              ['close', { reason: plan.kind === 'close' ? plan.reason : 'completed' }],
            ].slice(0, { leave: 0, accept: 1, contact: 2, start: 3, close: 4 }[plan.kind]) as Array<
              [string, Record<string, unknown>]
            >);
      // Read once (a new one is in the team's worklist already); each action's answer is the referral as it now
      // stands, with what may be done next.
      const team = teams.get(referralId) as string;
      let view =
        (await routedOf(team)).get(referralId) ??
        (await call(apiUrl, token, 'GET', `/team/referrals/${referralId}`));
      for (const [action, body] of steps) {
        const actions = (view.body.actions ?? []) as string[];
        if (!actions.includes(action)) continue;
        const answer = await call(apiUrl, token, 'POST', `/team/referrals/${referralId}/${action}`, {
          version: view.body.version,
          ...body,
        });
        if (answer.status !== 200) break;
        teamActions[action] = (teamActions[action] ?? 0) + 1;
        view = answer;
      }
      // Outcome measures once the intervention has started: a baseline, and for those closed a follow-up.
      if (plan.kind === 'start' || plan.kind === 'close') {
        const better = plan.kind === 'close' && plan.reason === 'completed';
        const sets = [
          { timepoint: 'baseline', ons4: [3, 4, 3, 7], ucla: 3, direct: 'often-always' },
          ...(plan.kind === 'close'
            ? [
                better
                  ? { timepoint: 'follow-up', ons4: [6, 7, 6, 4], ucla: 2, direct: 'occasionally' }
                  : { timepoint: 'follow-up', ons4: [3, 4, 2, 8], ucla: 3, direct: 'often-always' },
              ]
            : []),
        ];
        for (const set of sets) {
          const [lifeSatisfaction, worthwhile, happiness, anxiety] = set.ons4;
          const answer = await call(apiUrl, token, 'POST', `/team/referrals/${referralId}/outcomes`, {
            id: stableUuid(`${referralId}/${set.timepoint}`),
            timepoint: set.timepoint,
            takenOn: today,
            ons4: { lifeSatisfaction, worthwhile, happiness, anxiety },
            ucla3: { lackCompanionship: set.ucla, leftOut: set.ucla, isolated: set.ucla },
            lonelinessDirect: set.direct,
          });
          if (answer.status === 201) outcomeSets++;
        }
      }
    },
  );
  return { referrals: sent.length, partnerAccepted, partnerDeclined, teamActions, outcomeSets };
}
