import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import fc from 'fast-check';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { routes, roles, type Role, type RouteSpec } from '#system/routes.ts';
import type { TokenRequest } from '../../infra/local/dev-issuer.ts';
import { offerIdFor } from '#referral/domain/offer.ts';
import { eventually, sampleReferral } from '../support/local.ts';

// Issue 11 item 2: generated hostile requests (fast-check pools of wrong types, huge strings, deep nesting, unicode
// and NUL, prototype-pollution keys, duplicate keys, mutations of valid Bundles, referrals and directory records,
// missing and conflicting headers, oversized bodies, wrong content types, forged and malformed tokens) over real
// keep-alive HTTP against the whole local stack, spread over every route of the system description. Never a 5xx,
// the gateway keeps answering, every refusal (but a page's HTML) is a well-formed OperationOutcome, and a valid
// referral is still taken and read afterwards. HOSTILE_REQUESTS sizes the run.

// 20,000 in `npm test` (about a minute here); `npm run test:hostile` sends the issue's 100,000.
const total = Number(process.env['HOSTILE_REQUESTS'] ?? 20_000);
const inFlight = 32;
const seed = Number(process.env['HOSTILE_SEED'] ?? 20261202);

const claimsFor: Record<Role, TokenRequest> = {
  'gp-system': { role: 'gp-system', ods: ['A81001'], subject: 'hostile-gp' },
  'link-worker': { role: 'link-worker', team: 'lw-woodhouse', subject: 'hostile-lw' },
  partner: { role: 'partner', partner: 'arts-for-all', subject: 'hostile-partner' },
  ops: { role: 'ops', subject: 'hostile-ops' },
  admin: { role: 'admin', subject: 'hostile-admin' },
  commissioner: { role: 'commissioner', subject: 'hostile-commissioner' },
};

let stack: LocalStack;
let tokens: Record<Role, string>;
let forgedTokens: string[] = [];
const stackFailures: string[] = [];
let referralId = '';
let offerId = '';
let directoryRecords: Record<string, unknown>[] = [];
const agent = new http.Agent({ keepAlive: true, maxSockets: inFlight });

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

interface HostileRequest {
  route: string;
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer | string;
}

function send(request: HostileRequest): Promise<Answer> {
  const url = new URL(stack.apiUrl);
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: request.method,
        path: request.path,
        headers: request.headers,
        agent,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}

/** Why an answer breaks the rules, or undefined if it keeps them. */
function fault(request: HostileRequest, answer: Answer): string | undefined {
  if (answer.status >= 500 || answer.status === 0) return `status ${answer.status}`;
  if (answer.status < 400) return undefined;
  const page = /^\/(inbox|observatory)(\/|$)/.test(request.path);
  // The page routes serve browsers: their refusals (an unknown file) are plain text or HTML, not FHIR.
  if (page && /^text\/(html|plain)/.test(answer.contentType)) return undefined;
  if (!/^application\/fhir\+json/.test(answer.contentType)) return `content type ${answer.contentType}`;
  let outcome: { resourceType?: unknown; issue?: unknown };
  try {
    outcome = JSON.parse(answer.body) as typeof outcome;
  } catch {
    return 'body is not JSON';
  }
  if (outcome.resourceType !== 'OperationOutcome') return 'not an OperationOutcome';
  if (!Array.isArray(outcome.issue) || outcome.issue.length === 0) return 'no issue';
  for (const issue of outcome.issue as Array<Record<string, unknown>>) {
    if (issue['severity'] !== 'error') return 'issue without severity error';
    if (typeof issue['code'] !== 'string' || issue['code'] === '') return 'issue without code';
    const diagnostics = typeof issue['diagnostics'] === 'string' && issue['diagnostics'] !== '';
    const expression = Array.isArray(issue['expression']) && issue['expression'].length > 0;
    if (!diagnostics && !expression) return 'issue naming nothing (no diagnostics, no expression)';
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Generation: fast-check samples pools of hostile parts once (seeded), and a seeded mixer combines them per request,
// so 100,000 requests cost little to make.

function fhir(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`../../events/fhir/${name}`, import.meta.url), 'utf8')) as Record<
    string,
    unknown
  >;
}

const pollutingKeys = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];
const deep = (depth: number, array: boolean): string =>
  array ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.string({ minLength: 5_000, maxLength: 20_000 }),
  fc.constantFrom(
    null,
    true,
    0,
    -1,
    1.5,
    2 ** 53,
    -0,
    1e308,
    '',
    '\u0000',
    '\ud800',
    '\u202e\u200b',
    'A81001\u0000',
    '9995260182',
    [],
    {},
    [[[[[]]]]],
    { __proto__: { admin: true } },
  ),
  fc.integer({ min: 10, max: 80 }).map((depth) => JSON.parse(deep(depth, false)) as unknown),
);

type Json = unknown;

/** A copy of `base` with one value somewhere in it replaced, deleted, or given a polluting sibling. */
function mutate(base: Json, rng: () => number, value: unknown): Json {
  const copy = structuredClone(base);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
  let node: unknown = copy;
  for (let step = 0; step < 1 + Math.floor(rng() * 6); step++) {
    if (node === null || typeof node !== 'object') break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = pick(keys);
    const child = (node as Record<string, unknown>)[key];
    if (child === null || typeof child !== 'object' || rng() < 0.3) {
      const what = rng();
      if (what < 0.6) (node as Record<string, unknown>)[key] = value;
      else if (what < 0.8) delete (node as Record<string, unknown>)[key];
      else Object.defineProperty(node, pick(pollutingKeys), { value, enumerable: true, writable: true });
      return copy;
    }
    node = child;
  }
  if (node !== null && typeof node === 'object')
    Object.defineProperty(node, pick(pollutingKeys), { value, enumerable: true, writable: true });
  return copy;
}

/** JSON text with a key of the top object given twice (the second differs, or wins, per parser). */
function duplicateKeys(text: string, rng: () => number): string {
  const match = /"([A-Za-z]+)":/.exec(text.slice(0, 200));
  if (!match) return `{"a":1,"a":2,${text.slice(1)}`;
  const twin = rng() < 0.5 ? `"${match[1]}":null,` : `"${match[1]}":{"__proto__":1},`;
  return `{${twin}${text.slice(1)}`;
}

function mulberry32(start: number): () => number {
  let a = start >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Pools {
  values: unknown[];
  strings: string[];
  ids: string[];
  queries: string[];
  contentTypes: Array<string | string[] | undefined>;
}

function samplePools(): Pools {
  const sample = <T>(arbitrary: fc.Arbitrary<T>, numRuns: number): T[] =>
    fc.sample(arbitrary, { numRuns, seed });
  const queryKey = fc.constantFrom(
    'from',
    'to',
    'limit',
    'cursor',
    'status',
    'period',
    'team',
    'partner',
    'region',
    'format',
    '_format',
    '__proto__',
    'constructor',
    'x',
  );
  return {
    values: sample(hostileValue, 800),
    strings: sample(
      fc.oneof(fc.string({ maxLength: 300 }), fc.string({ maxLength: 60, unit: 'binary' })),
      400,
    ),
    ids: [
      ...sample(fc.string({ minLength: 1, maxLength: 200, unit: 'binary' }), 300),
      ...sample(fc.uuid(), 50),
      'x'.repeat(5000),
      '\u0000',
      '%00',
      '..%2F..%2Fetc%2Fpasswd',
      '__proto__',
      'constructor',
      'prototype',
    ],
    queries: [
      ...sample(
        fc.dictionary(
          queryKey,
          fc.oneof(fc.string({ maxLength: 80, unit: 'binary' }), fc.date().map(String)),
        ),
        400,
      ).map((params) => new URLSearchParams(params).toString()),
      'from=2026-01-01&to=2026-12-31',
      'from=2026-12-31&to=2026-01-01',
      'from=0000-00-00&to=9999-99-99',
      'limit=-1',
      'limit=1e9',
      'cursor=%00%ff',
      'from=a&from=b&to=c&to=d',
      `cursor=${'A'.repeat(6000)}`,
      '%',
      '__proto__[admin]=1',
    ],
    contentTypes: [
      'application/json',
      'application/fhir+json',
      'application/json; charset=utf-8',
      'application/fhir+json; charset=latin1',
      'text/plain',
      'text/html',
      'application/xml',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      '',
      'application/json\u00e9',
      ';;;',
      'application/json, text/plain',
      ['application/json', 'text/plain'],
      undefined,
    ],
  };
}

/** What an HTTP client can put on the request line: a raw id's spaces, controls and non-ASCII escaped. */
const onRequestLine = (text: string): string =>
  text.replace(/[^\x21-\x7e]/gu, (c) => encodeURIComponent(c.replace(/[\ud800-\udfff]/g, '\ufffd')));
/** What an HTTP client can put in a header value: Latin-1 without controls. */
const headerValue = (text: string): string => text.replace(/[^\x20-\x7e\xa0-\xff]/g, '?');

const realIds = (): string[] => [
  referralId,
  offerId,
  'lw-woodhouse',
  'arts-for-all',
  'svc-arts-studio',
  'social-prescribing-servicerequest-request-referral',
  'inbox.js',
  'observatory.js',
];

function build(index: number, pools: Pools): HostileRequest {
  const rng = mulberry32(seed + index * 7919);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
  const chance = (p: number): boolean => rng() < p;

  // A few requests to no route, or with a method the route does not have.
  const route: RouteSpec = pick(routes);
  let method: string = route.method;
  if (chance(0.02)) method = pick(['DELETE', 'PATCH', 'OPTIONS', 'PUT', 'TRACE']);
  const id = (): string => {
    if (chance(0.5)) return encodeURIComponent(pick(realIds()));
    const raw = pick(pools.ids);
    return chance(0.9) ? encodeURIComponent(raw).replace(/^\.{0,2}$/, 'x') : raw.replace(/[/?#\s]/g, '_');
  };
  let path = route.path.replace(/\{\w+\}/g, (name) => onRequestLine(id()) || name);
  if (chance(0.01)) path = `/${encodeURIComponent(pick(pools.strings))}`;
  if (route.method === 'GET' && chance(0.6)) path += `?${pick(pools.queries)}`;

  const headers: Record<string, string | string[]> = {};
  // The token: mostly the route's own role (past the authorizer, into the handler), else another role, a forged or
  // malformed one, two at once, or none.
  const allowed = route.access === 'public' ? roles : route.access;
  const tokenKind = rng();
  if (tokenKind < 0.7) headers['Authorization'] = `Bearer ${tokens[pick(allowed)]}`;
  else if (tokenKind < 0.8) headers['Authorization'] = `Bearer ${tokens[pick(roles)]}`;
  else if (tokenKind < 0.93) headers['Authorization'] = pick(forgedTokens);
  else if (tokenKind < 0.96)
    headers['Authorization'] = [`Bearer ${tokens[pick(allowed)]}`, `Bearer ${tokens[pick(roles)]}`];

  const contentType = chance(0.75) ? 'application/json' : pick(pools.contentTypes);
  if (contentType !== undefined) headers['Content-Type'] = contentType;
  if (route.path === '/$process-message' || chance(0.05)) {
    if (chance(0.8)) headers['X-Request-ID'] = chance(0.8) ? randomUUID() : headerValue(pick(pools.strings));
    if (chance(0.8)) headers['X-Correlation-ID'] = chance(0.8) ? randomUUID() : 'not-a-uuid';
  }
  if (chance(0.02)) headers['Content-Encoding'] = pick(['gzip', 'br', 'identity, gzip', 'x']);
  if (chance(0.02)) headers['Accept'] = pick(['application/xml', '*/*;q=0', 'text/html', 'text/\u00ff']);
  if (chance(0.005)) headers['X-Padding'] = 'p'.repeat(11_000 + Math.floor(rng() * 10_000));

  let body: string | Buffer | undefined;
  if (method !== 'GET' || chance(0.03)) body = hostileBody(route, pools, rng);
  return {
    route: `${route.method} ${route.path}`,
    method,
    path,
    headers,
    ...(body === undefined ? {} : { body }),
  };
}

function hostileBody(route: RouteSpec, pools: Pools, rng: () => number): string | Buffer {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
  const kind = rng();
  if (kind < 0.0005) return Buffer.alloc(10 * 1024 * 1024 + 1 + Math.floor(rng() * 1000), 0x20); // over the limit
  if (kind < 0.05) return pick(pools.strings);
  if (kind < 0.1) return JSON.stringify(pick(pools.values));
  if (kind < 0.11) return deep(20 + Math.floor(rng() * 5000), rng() < 0.5);
  if (kind < 0.113) return `{"text":"${'\u00e9\u0000'.repeat(50_000 + Math.floor(rng() * 200_000))}"}`;
  const bases: Json[] =
    route.path === '/referrals'
      ? [sampleReferral(), sampleReferral('blackpool-benefits-and-activity')]
      : route.path === '/$process-message'
        ? [fhir('new-referral.json'), fhir('update.json'), fhir('cancel.json'), fhir('entered-in-error.json')]
        : route.path.startsWith('/directory/')
          ? directoryRecords
          : route.path.endsWith('/outcomes')
            ? [{ version: 1, measures: [{ tool: 'ons4', score: 5 }] }]
            : [
                { version: 1 },
                { version: 1, reason: 'no-capacity', text: 'full' },
                { version: 2, partnerId: 'arts-for-all' },
              ];
  const text = JSON.stringify(mutate(pick(bases), rng, pick(pools.values)));
  return rng() < 0.1 ? duplicateKeys(text, rng) : text;
}

// ---------------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  stack = await startLocalStack({
    port: 0,
    throttle: { ratePerSecond: 1_000_000, burst: 1_000_000 },
    // Why a function failed (a timeout, a crash), so a 502 in the figures names its cause.
    log: (line) => {
      if (/timed out|crashed|exited|gateway error/.test(line) && stackFailures.length < 20)
        stackFailures.push(line);
    },
  });
  const minted = await Promise.all(
    roles.map(async (role) => [role, await stack.issuer.mint(claimsFor[role])]),
  );
  tokens = Object.fromEntries(minted) as Record<Role, string>;

  const now = Math.floor(Date.now() / 1000);
  const { privateKey } = await generateKeyPair('ES256');
  const gp = { role: 'gp-system', ods: ['A81001'] };
  const forge = (
    header: Record<string, string>,
    aud: string,
    exp: number,
    claims: Record<string, unknown> = gp,
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', ...header })
      .setIssuer(stack.issuer.issuer)
      .setAudience(aud)
      .setSubject('hostile-forger')
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(privateKey);
  const valid = tokens['gp-system'];
  const [head = '', payload = '', signature = ''] = valid.split('.');
  forgedTokens = [
    `Bearer ${new UnsecuredJWT(gp)
      .setIssuer(stack.issuer.issuer)
      .setAudience(stack.issuer.audience)
      .setExpirationTime(now + 300)
      .encode()}`,
    `Bearer ${await forge({ kid: 'hostile-key' }, stack.issuer.audience, now + 300)}`,
    `Bearer ${await forge({ kid: 'hostile-key' }, 'another-api', now + 300)}`,
    `Bearer ${await forge({ kid: 'hostile-key' }, stack.issuer.audience, now - 600)}`,
    `Bearer ${await forge({ kid: 'hostile-key' }, stack.issuer.audience, now + 300, { role: 'superuser' })}`,
    `Bearer ${await stack.issuer.mint({ ...claimsFor['gp-system'], expiresInSeconds: -600 })}`,
    `Bearer ${head}.${payload}.${signature.slice(0, -4)}AAAA`,
    `Bearer ${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`,
    `Bearer ${Buffer.from('{"alg":"HS256","kid":"../../etc"}').toString('base64url')}.${payload}.${signature}`,
    `Bearer ${head}.${Buffer.from('{"role":"admin","__proto__":{"role":"admin"}}').toString('base64url')}.${signature}`,
    `Basic ${valid}`,
    `bearer ${valid}`,
    `Bearer  ${valid}`,
    `Bearer ${valid}x`,
    'Bearer ',
    'Bearer',
    'Bearer a.b.c',
    'Bearer ....',
    `Bearer ${'A'.repeat(9000)}`,
    'Bearer \u00e9\u00e9',
    ...fc
      .sample(fc.string({ maxLength: 200 }), { numRuns: 40, seed })
      .map((s) => `Bearer ${s.replace(/[^\x20-\x7e]/g, '')}`),
  ];

  const created = await send({
    route: 'setup',
    method: 'POST',
    path: '/referrals',
    headers: { Authorization: `Bearer ${tokens['gp-system']}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(sampleReferral()),
  });
  expect(created.status, created.body).toBe(202);
  referralId = (JSON.parse(created.body) as { referralId: string }).referralId;
  offerId = offerIdFor(referralId, 'arts', 'svc-arts-studio');
  await eventually(
    async () =>
      (
        await send({
          route: 'setup',
          method: 'GET',
          path: `/partner/offers/${offerId}`,
          headers: { Authorization: `Bearer ${tokens.partner}` },
        })
      ).status === 200 || undefined,
    'the setup referral routed with its offer',
  );
  directoryRecords = [];
  for (const path of [
    '/directory/teams/lw-woodhouse',
    '/directory/partners/arts-for-all',
    '/directory/services/svc-arts-studio',
  ]) {
    const answer = await send({
      route: 'setup',
      method: 'GET',
      path,
      headers: { Authorization: `Bearer ${tokens.admin}` },
    });
    expect(answer.status, answer.body).toBe(200);
    directoryRecords.push(JSON.parse(answer.body) as Record<string, unknown>);
  }
}, 120_000);

afterAll(async () => {
  agent.destroy();
  await stack?.stop();
});

describe('every route under generated hostile requests', () => {
  it(`${total} requests: never 5xx, every refusal an OperationOutcome, the stack still serving`, async () => {
    const started = performance.now();
    const pools = samplePools();
    const byRoute = new Map<string, number>();
    const byStatus = new Map<number, number>();
    const faults: string[] = [];
    let errors = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < total) {
        const request = build(next++, pools);
        byRoute.set(request.route, (byRoute.get(request.route) ?? 0) + 1);
        let answer: Answer;
        try {
          answer = await send(request);
        } catch (error) {
          // The gateway closes a connection after some refusals (431, a body past what it drains); count those,
          // and fail only if the stack stops answering (checked below).
          errors++;
          if (errors > total / 100)
            faults.push(`${request.method} ${request.path.slice(0, 120)}: ${String(error)}`);
          continue;
        }
        byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
        const why = fault(request, answer);
        if (why && faults.length < 20)
          faults.push(
            `${request.method} ${request.path.slice(0, 120)} [${String(request.headers['Content-Type'])}] -> ${answer.status} ${why}: ${answer.body.slice(0, 300)}`,
          );
      }
    };
    await Promise.all(Array.from({ length: inFlight }, worker));
    const seconds = (performance.now() - started) / 1000;

    console.log(
      [
        `hostile: ${total} requests in ${seconds.toFixed(1)} s (${Math.round(total / seconds)}/s, ${inFlight} in flight, seed ${seed}); ${errors} connection errors`,
        `by status: ${[...byStatus]
          .sort(([a], [b]) => a - b)
          .map(([s, n]) => `${s}: ${n}`)
          .join(', ')}`,
        'by route:',
        `stack failures: ${stackFailures.join(' | ') || 'none'}`,
        ...[...byRoute].sort(([a], [b]) => a.localeCompare(b)).map(([r, n]) => `  ${r}: ${n}`),
      ].join('\n'),
    );
    expect(faults).toEqual([]);
    expect(new Set(byRoute.keys())).toEqual(new Set(routes.map((r) => `${r.method} ${r.path}`)));
    expect([...byStatus.keys()].filter((s) => s >= 500)).toEqual([]);
  }, 600_000);

  it('afterwards the gateway answers, and a valid referral is taken and read', async () => {
    const metadata = await send({ route: 'check', method: 'GET', path: '/metadata', headers: {} });
    expect(metadata.status).toBe(200);
    const created = await send({
      route: 'check',
      method: 'POST',
      path: '/referrals',
      headers: { Authorization: `Bearer ${tokens['gp-system']}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(sampleReferral()),
    });
    expect(created.status, created.body).toBe(202);
    const { referralId: id } = JSON.parse(created.body) as { referralId: string };
    const read = await send({
      route: 'check',
      method: 'GET',
      path: `/referrals/${id}`,
      headers: { Authorization: `Bearer ${tokens['gp-system']}` },
    });
    expect(read.status, read.body).toBe(200);
    expect(JSON.parse(read.body)).toMatchObject({ referralId: id });
  });
});
