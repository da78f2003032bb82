import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDevIssuer, type DevIssuer, type TokenRequest } from '../../infra/local/dev-issuer.ts';
import { startLocalGateway, type LocalGateway, type TokenAuthorizer } from '../../infra/local/gateway.ts';
import { importHandlers, startLocalStack, type LocalStack } from '../../infra/local/local-stack.ts';
import { roles, routes, type Role, type RouteSpec } from '#system/routes.ts';
import { type SettingName } from '#system/functions.ts';
import { referralIdFor, uuidPattern } from '#kernel/ids.ts';
import { barsErrorCodeSystem, type BarsErrorCode, type OperationOutcome } from '#http/operation-outcome.ts';
import { offerIdFor } from '#referral/domain/offer.ts';
import { auditOf, eventually, sampleReferral, storedReferral } from '../support/local.ts';

// Who may do what, over real HTTP against one in-process local stack: every route of the topology (iterated, so a
// new route joins the matrix by itself) for every role, with the status each must get; then the ways a token can
// be bad, each a 401; then that the practice a GP system acts for comes from its token, never from the body.

/** The practice our GP system is bound to, and one it is not. */
const ownPractice = 'A81001';
const otherPractice = 'B82001';
const ownJson = 'leeds-arts-and-mental-health'; // practiceOds A81001
const otherJson = 'blackpool-benefits-and-activity'; // practiceOds B82001
const ownBars = readFileSync(new URL('../../events/fhir/new-referral.json', import.meta.url), 'utf8');
// The same BaRS message sent by (and for) the other practice: its Organization (the sender) carries the ODS code.
const otherBars = ownBars.replaceAll(ownPractice, otherPractice);

/** One caller per role; a record over `Role`, so a new role fails to compile until it is given claims here. */
const claimsFor: Record<Role, TokenRequest> = {
  'gp-system': { role: 'gp-system', ods: [ownPractice], subject: 'e2e-gp-system-a81001' },
  'link-worker': { role: 'link-worker', team: 'lw-woodhouse', subject: 'e2e-link-worker' },
  partner: { role: 'partner', partner: 'arts-for-all', subject: 'e2e-partner' },
  ops: { role: 'ops', subject: 'e2e-ops' },
  admin: { role: 'admin', subject: 'e2e-admin' },
  commissioner: { role: 'commissioner', subject: 'e2e-commissioner' },
};
type CallerName = Role | 'anonymous';
const callers: CallerName[] = [...roles, 'anonymous'];

const outcomeCodes: Record<number, BarsErrorCode> = {
  400: 'REC_BAD_REQUEST',
  401: 'REC_UNAUTHORIZED',
  403: 'REC_FORBIDDEN',
  404: 'REC_NOT_FOUND',
};

let stack: LocalStack;
let tokens: Record<Role, string>;
let ownId = '';
let otherId = '';
/** The offers routing made of them: ours to our partner (arts-for-all), the other's to another partner. */
let ownOfferId = '';
let otherOfferId = '';
/** The authorizer function the stack's gateway runs (the module as the stack imported it). */
let stackAuthorizer: TokenAuthorizer;
let handlers: Awaited<ReturnType<typeof importHandlers>>;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { authorization?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      ...(options.authorization === undefined ? {} : { Authorization: options.authorization }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: options.body }),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

const bearer = (token: string): string => `Bearer ${token}`;

/** A non-2xx answer: the expected status, as a FHIR OperationOutcome carrying the matching BaRS error code. */
function expectOutcome(answer: Answer, status: number): void {
  expect(answer.status, answer.text).toBe(status);
  const code = outcomeCodes[status];
  expect(code, `no BaRS code known for ${status}`).toBeDefined();
  expect(answer.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
  const outcome = JSON.parse(answer.text) as OperationOutcome;
  expect(outcome.resourceType).toBe('OperationOutcome');
  expect(outcome.issue.length).toBeGreaterThan(0);
  for (const issue of outcome.issue) {
    expect(issue.severity).toBe('error');
    expect(issue.details.coding).toContainEqual(
      expect.objectContaining({ system: barsErrorCodeSystem, code }),
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// How to call each kind of route, and what it must answer.

type Target = 'own' | 'other';

interface Submission {
  success: number;
  request(target: Target): { body: string; headers: Record<string, string> };
  checkAccepted(answer: Answer, sent: Record<string, string>): void;
}

/** Submission routes by `METHOD path`: a request for our practice and one for another, and the success check. */
const submissions: Record<string, Submission> = {
  'POST /referrals': {
    success: 202,
    request: (target) => ({
      body: JSON.stringify(sampleReferral(target === 'own' ? ownJson : otherJson)),
      headers: { 'Content-Type': 'application/json' },
    }),
    checkAccepted(answer) {
      const { referralId } = JSON.parse(answer.text) as { referralId: string };
      expect(referralId).toMatch(uuidPattern);
      expect(answer.headers.get('location')).toBe(`/referrals/${referralId}`);
    },
  },
  'POST /$process-message': {
    success: 200,
    request: (target) => ({
      body: target === 'own' ? ownBars : otherBars,
      headers: {
        'Content-Type': 'application/fhir+json',
        'X-Request-ID': randomUUID(),
        'X-Correlation-ID': randomUUID(),
      },
    }),
    checkAccepted(answer, sent) {
      expect((JSON.parse(answer.text) as { resourceType: string }).resourceType).toBe('Bundle');
      expect(answer.headers.get('x-request-id')).toBe(sent['X-Request-ID']);
      expect(answer.headers.get('x-correlation-id')).toBe(sent['X-Correlation-ID']);
    },
  },
};

/** Reading routes by `METHOD path`: what the answer for our own referral must show (else: it names the id). */
const reads: Record<string, (body: Record<string, unknown>) => void> = {
  'GET /referrals/{id}': (body) =>
    expect(body).toMatchObject({ referralId: ownId, practiceOds: ownPractice }),
  'GET /ServiceRequest/{id}': (body) =>
    expect(body).toMatchObject({
      resourceType: 'ServiceRequest',
      id: ownId,
      requester: { identifier: { value: ownPractice } },
    }),
};

type RouteKind = 'public' | 'read' | 'submit' | 'admin' | 'case' | 'reports' | 'ops-only' | 'other';

/** Case work: a link worker's team referrals, a partner's offers (any sub-route, the outcome measures' included). */
const caseWorkPrefixes = ['/team/referrals', '/partner/offers'] as const;

function kindOf(route: RouteSpec): RouteKind {
  if (route.access === 'public') return 'public';
  if (route.path.startsWith('/directory/')) return 'admin';
  if (route.path.startsWith('/reports/')) return 'reports';
  if (route.path.startsWith('/evaluation/')) return 'ops-only';
  if (caseWorkPrefixes.some((prefix) => route.path === prefix || route.path.startsWith(`${prefix}/`)))
    return 'case';
  if (route.method === 'GET' && route.path.includes('{id}')) return 'read';
  if (route.method === 'POST' && !route.path.includes('{')) return 'submit';
  return 'other';
}

const routeKey = (route: RouteSpec): string => `${route.method} ${route.path}`;

interface Case {
  route: RouteSpec;
  caller: CallerName;
  /** Whose referral is read, or for whose practice a submission is made; absent on public routes. */
  target?: Target;
  /** Undefined: the rules below do not say (a new kind of route); the case fails, asking for a rule. */
  expected?: number;
}

/**
 * The rules: public routes answer everyone, with or without a token; a protected route without a token is 401;
 * a role not in the route's `access` is 403 (deny by default, whatever the body or id); an allowed GP system
 * reads its own practice's referral (200) but not another's (404), and submits for its own practice (the route's
 * success status) but not for another (403).
 */
function expectedStatus(
  route: RouteSpec,
  caller: CallerName,
  target: Target | undefined,
): number | undefined {
  if (route.access === 'public') return 200;
  if (caller === 'anonymous') return 401;
  if (!route.access.includes(caller)) return 403;
  switch (kindOf(route)) {
    case 'read':
      return target === 'own' ? 200 : 404;
    case 'submit': {
      const submission = submissions[routeKey(route)];
      if (!submission) return undefined;
      return target === 'own' ? submission.success : 403;
    }
    case 'case':
      // Scoped by the token's organisation: a worklist (no id) lists the caller's own and answers 200 whoever's
      // referral the matrix names; an item of the caller's own is read (200), and an action on it with the
      // matrix's body `{}` (no version) is 400; another organisation's is 404 whatever the method or body.
      if (!route.path.includes('{id}')) return 200;
      if (target === 'other') return 404;
      return route.method === 'GET' ? 200 : 400;
    case 'admin':
      // The directory admin API is bound to no organisation: own and other alike. The matrix's ids (referral
      // UUIDs) name no directory record, and its body `{}` is neither a record nor a version: past the role check,
      // a read or a rotation is 404, and any change is 400.
      return route.method === 'GET' || route.path.endsWith('/rotate-secret') ? 404 : 400;
    case 'reports':
      // Figures, bound to no organisation and naming no referral: own and other alike (the default range).
      return 200;
    case 'ops-only':
      // The evaluation extract, bound to no organisation: own and other alike. The matrix sends no `from` and
      // `to`, so past the role check it is 400 naming them.
      return 400;
    default:
      return undefined;
  }
}

const cases: Case[] = routes.flatMap((route) =>
  callers.flatMap((caller): Case[] => {
    if (route.access === 'public')
      return [{ route, caller, expected: expectedStatus(route, caller, undefined) }];
    return (['own', 'other'] as const).map((target) => ({
      route,
      caller,
      target,
      expected: expectedStatus(route, caller, target),
    }));
  }),
);

/** The id a path names: a referral's, or on a partner's routes the offer routing made of it. */
function idFor(route: RouteSpec, target: Target | undefined): string {
  if (route.path.startsWith('/partner/offers')) return target === 'other' ? otherOfferId : ownOfferId;
  // A public resource's id: one that exists (public routes answer everyone 200).
  if (route.path.startsWith('/MessageDefinition/'))
    return 'social-prescribing-servicerequest-request-referral';
  return target === 'other' ? otherId : ownId;
}

function concretePath(route: RouteSpec, target: Target | undefined): string {
  return route.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    name === 'id'
      ? idFor(route, target)
      : // A public page's file: one that exists (public routes answer everyone 200).
        name === 'asset'
        ? route.function === 'observatoryPage'
          ? 'observatory.js'
          : 'inbox.js'
        : `unknown-${name}`,
  );
}

function describeCase({ route, caller, target }: Case): string {
  const who =
    caller === 'anonymous' ? 'no token' : caller === 'gp-system' ? `gp-system (${ownPractice})` : caller;
  if (target === undefined) return `${routeKey(route)} as ${who}`;
  const what =
    kindOf(route) === 'read' || kindOf(route) === 'case'
      ? `${target} ${route.path.startsWith('/partner/offers') ? 'offer' : 'referral'}`
      : kindOf(route) === 'admin'
        ? `${target} id`
        : `${target} practice's body`;
  return `${routeKey(route)} as ${who}, ${what}`;
}

// ---------------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  // In memory, on free ports; the per-client throttle lifted so the matrix is never answered 429.
  stack = await startLocalStack({ port: 0, throttle: { ratePerSecond: 10_000, burst: 10_000 } });
  // The handlers as the stack loaded them (the module cache answers), before any test resets modules.
  handlers = await importHandlers();
  stackAuthorizer = handlers.authorizer as TokenAuthorizer;
  const minted = await Promise.all(
    roles.map(async (role) => [role, await stack.issuer.mint(claimsFor[role])]),
  );
  tokens = Object.fromEntries(minted) as Record<Role, string>;

  const create = async (ods: string, sample: string): Promise<string> => {
    const token = await stack.issuer.mint({ role: 'gp-system', ods: [ods], subject: `e2e-setup-${ods}` });
    const answer = await call(stack.apiUrl, 'POST', '/referrals', {
      authorization: bearer(token),
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(sampleReferral(sample)),
    });
    expect(answer.status, answer.text).toBe(202);
    return (JSON.parse(answer.text) as { referralId: string }).referralId;
  };
  ownId = await create(ownPractice, ownJson);
  otherId = await create(otherPractice, otherJson);
  // Case-work routes need both routed, with their offers made: the stack's router runs on its own.
  ownOfferId = offerIdFor(ownId, 'arts', 'svc-arts-studio');
  otherOfferId = offerIdFor(otherId, 'physical-activity', 'svc-walking-football');
  const routedWithOffer = async (token: string, offerId: string) =>
    (await call(stack.apiUrl, 'GET', `/partner/offers/${offerId}`, { authorization: bearer(token) }))
      .status === 200
      ? true
      : undefined;
  await eventually(() => routedWithOffer(tokens.partner, ownOfferId), 'our referral routed with its offer');
  const otherPartner = await stack.issuer.mint({
    role: 'partner',
    partner: 'blackpool-moves',
    subject: 'e2e-setup',
  });
  await eventually(
    () => routedWithOffer(otherPartner, otherOfferId),
    'the other referral routed with its offer',
  );
});

afterAll(async () => {
  await stack?.stop();
});

describe('the access matrix: every route x every role', () => {
  it('covers every route of the topology, for every role and without a token', () => {
    expect(new Set(cases.map((c) => c.route))).toEqual(new Set(routes));
    for (const route of routes) {
      expect(new Set(cases.filter((c) => c.route === route).map((c) => c.caller))).toEqual(new Set(callers));
    }
  });

  for (const c of cases) {
    it(`${describeCase(c)} -> ${c.expected ?? 'no rule'}`, async () => {
      expect(
        c.expected,
        `no expected status for ${describeCase(c)}: add a rule for ${routeKey(c.route)} to this matrix`,
      ).toBeDefined();
      const submission = kindOf(c.route) === 'submit' ? submissions[routeKey(c.route)] : undefined;
      const sent = c.route.method === 'GET' ? undefined : submission?.request(c.target ?? 'own');
      const answer = await call(stack.apiUrl, c.route.method, concretePath(c.route, c.target), {
        ...(c.caller === 'anonymous' ? {} : { authorization: bearer(tokens[c.caller]) }),
        ...(sent ??
          (c.route.method === 'GET' ? {} : { body: '{}', headers: { 'Content-Type': 'application/json' } })),
      });

      if (c.expected === undefined) return;
      if (c.expected >= 300) return expectOutcome(answer, c.expected);
      expect(answer.status, answer.text).toBe(c.expected);
      // A public page's files are not JSON: they answer everyone alike, and say nothing of anyone's referrals.
      if (c.route.function === 'inboxPage' || c.route.function === 'observatoryPage')
        return expect(answer.text).not.toContain(ownId);
      const body = JSON.parse(answer.text) as Record<string, unknown>;
      if (kindOf(c.route) === 'case' && c.route.method === 'GET') {
        // An item shows its referral; a worklist lists our referral (or its offer) and never the other's.
        expect(answer.text).toContain(ownId);
        if (!c.route.path.includes('{id}')) expect(answer.text).not.toContain(otherId);
      } else if (kindOf(c.route) === 'read') {
        const check = reads[routeKey(c.route)];
        if (check) check(body);
        else expect(answer.text).toContain(ownId);
      } else if (kindOf(c.route) === 'reports') {
        // A report is figures only: its table, and no referral in it.
        expect(body).toMatchObject({
          report: c.route.path.slice('/reports/'.length),
          columns: expect.any(Array),
        });
        expect(answer.text).not.toContain(ownId);
      } else if (submission && sent) {
        submission.checkAccepted(answer, sent.headers);
      } else {
        expect(Object.keys(body).length).toBeGreaterThan(0);
      }
    });
  }
});

describe('token failures on a protected route: 401 REC_UNAUTHORIZED', () => {
  let otherIssuer: DevIssuer;
  const path = (): string => `/referrals/${ownId}`;
  const now = (): number => Math.floor(Date.now() / 1000);
  const gpClaims = { role: 'gp-system', ods: [ownPractice] };

  beforeAll(async () => {
    otherIssuer = await startDevIssuer({ port: 0 });
  });
  afterAll(async () => {
    await otherIssuer?.stop();
  });

  it('a valid token is let through (the control for the cases below)', async () => {
    const answer = await call(stack.apiUrl, 'GET', path(), { authorization: bearer(tokens['gp-system']) });
    expect(answer.status, answer.text).toBe(200);
  });

  const failures: Array<[string, () => Promise<string | undefined>]> = [
    ['no Authorization header', async () => undefined],
    ['"Bearer" with no token', async () => 'Bearer '],
    ['"Bearer" with garbage', async () => 'Bearer not-a.jwt.at-all'],
    ['another scheme (Basic) around a valid token', async () => `Basic ${tokens['gp-system']}`],
    [
      'an expired token (exp 120 s ago, beyond the 30 s clock tolerance)',
      async () => bearer(await stack.issuer.mint({ ...claimsFor['gp-system'], expiresInSeconds: -120 })),
    ],
    [
      'a token signed by a different key, under the issuer key id',
      async () => {
        const jwks = (await (await fetch(stack.issuer.jwksUrl)).json()) as { keys: JWK[] };
        const kid = jwks.keys[0]?.kid ?? 'dev';
        const { privateKey } = await generateKeyPair('ES256');
        return bearer(
          await new SignJWT(gpClaims)
            .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
            .setIssuer(stack.issuer.issuer)
            .setAudience(stack.issuer.audience)
            .setSubject('e2e-forger')
            .setIssuedAt(now())
            .setExpirationTime(now() + 300)
            .sign(privateKey),
        );
      },
    ],
    [
      'a token signed by a different key, under its own key id',
      async () => {
        const { privateKey } = await generateKeyPair('ES256');
        return bearer(
          await new SignJWT(gpClaims)
            .setProtectedHeader({ alg: 'ES256', kid: 'e2e-forger-key', typ: 'JWT' })
            .setIssuer(stack.issuer.issuer)
            .setAudience(stack.issuer.audience)
            .setSubject('e2e-forger')
            .setIssuedAt(now())
            .setExpirationTime(now() + 300)
            .sign(privateKey),
        );
      },
    ],
    [
      'an unsigned token (alg none)',
      async () =>
        bearer(
          new UnsecuredJWT(gpClaims)
            .setIssuer(stack.issuer.issuer)
            .setAudience(stack.issuer.audience)
            .setSubject('e2e-unsigned')
            .setIssuedAt(now())
            .setExpirationTime(now() + 300)
            .encode(),
        ),
    ],
    [
      'a token from another development issuer (wrong issuer and key)',
      async () => bearer(await otherIssuer.mint(claimsFor['gp-system'])),
    ],
  ];

  for (const [what, authorization] of failures) {
    it(what, async () => {
      const header = await authorization();
      expectOutcome(
        await call(stack.apiUrl, 'GET', path(), header === undefined ? {} : { authorization: header }),
        401,
      );
    });
  }
});

/**
 * The claims and the audience. The dev issuer signs only well-formed claims for our own audience and keeps its
 * private key to itself, so a token with an unknown role, a GP system without practices or another audience cannot
 * be signed by the key the stack trusts. Two ways round that, neither touching the source:
 *  - over HTTP: a second gateway in front of the stack's own handlers, whose authorizer is the same module loaded
 *    again with the stack's issuer and audience but the JWKS of a key this test holds;
 *  - the authorizer function called directly, loaded again with JWT_AUDIENCE set to another audience, refusing a
 *    token the stack's issuer minted (the settings are read once, at module load, as in Lambda).
 */
describe('claims and audience, checked by the authorizer', () => {
  type Settings = Partial<Record<SettingName, string>>;
  const methodArn = 'arn:aws:execute-api:eu-west-2:000000000000:local/local/GET/referrals/x';

  /** The authorizer module loaded afresh with some settings changed, as a Lambda with that configuration. */
  async function authorizerWith(settings: Settings): Promise<TokenAuthorizer> {
    const saved = Object.fromEntries(Object.keys(settings).map((name) => [name, process.env[name]]));
    vi.resetModules();
    Object.assign(process.env, settings);
    try {
      return ((await import('../../functions/authorizer/handler.ts')) as { handler: TokenAuthorizer })
        .handler;
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  }

  let testKeyGateway: LocalGateway;
  let jwksServer: http.Server;
  let testKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    testKey = privateKey;
    const jwk = { ...(await exportJWK(publicKey)), kid: 'e2e-test-key', alg: 'ES256', use: 'sig' };
    jwksServer = http.createServer((_, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
    const authorizer = await authorizerWith({ JWKS_URL: jwksUrl });
    testKeyGateway = await startLocalGateway({
      port: 0,
      handlers: { ...handlers, authorizer },
      throttle: { ratePerSecond: 10_000, burst: 10_000 },
    });
  });
  afterAll(async () => {
    await testKeyGateway?.stop();
    await new Promise<void>((resolve) => (jwksServer ? jwksServer.close(() => resolve()) : resolve()));
  });

  function registered(): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: stack.issuer.issuer,
      aud: stack.issuer.audience,
      sub: 'e2e-test-key-client',
      iat: now,
      exp: now + 300,
    };
  }
  const signed = (payload: JWTPayload): Promise<string> =>
    new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'e2e-test-key', typ: 'JWT' }).sign(testKey);
  const without = (payload: JWTPayload, claim: string): JWTPayload =>
    Object.fromEntries(Object.entries(payload).filter(([name]) => name !== claim));

  it('the test-key gateway lets a well-formed token through (the control for the cases below)', async () => {
    const token = await signed({ ...registered(), role: 'gp-system', ods: [ownPractice] });
    const answer = await call(testKeyGateway.url, 'GET', `/referrals/${ownId}`, {
      authorization: bearer(token),
    });
    expect(answer.status, answer.text).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ referralId: ownId });
  });

  const refused: Array<[string, () => JWTPayload]> = [
    ['a role that is not one of ours', () => ({ ...registered(), role: 'superuser', ods: [ownPractice] })],
    ['no role at all', () => ({ ...registered(), ods: [ownPractice] })],
    ['a gp-system token without ods', () => ({ ...registered(), role: 'gp-system' })],
    ['a gp-system token with an empty ods list', () => ({ ...registered(), role: 'gp-system', ods: [] })],
    [
      'a gp-system token with a malformed ODS code',
      () => ({ ...registered(), role: 'gp-system', ods: ['a81001'] }),
    ],
    ['a link-worker token without a team', () => ({ ...registered(), role: 'link-worker' })],
    ['a partner token without a partner', () => ({ ...registered(), role: 'partner' })],
    [
      'another audience',
      () => ({ ...registered(), aud: 'someone-else', role: 'gp-system', ods: [ownPractice] }),
    ],
    [
      'another issuer',
      () => ({
        ...registered(),
        iss: 'https://issuer.example.invalid',
        role: 'gp-system',
        ods: [ownPractice],
      }),
    ],
    ['no subject', () => without({ ...registered(), role: 'gp-system', ods: [ownPractice] }, 'sub')],
    ['no expiry', () => without({ ...registered(), role: 'gp-system', ods: [ownPractice] }, 'exp')],
  ];

  for (const [what, payload] of refused) {
    it(`over HTTP: ${what} -> 401`, async () => {
      const answer = await call(testKeyGateway.url, 'GET', `/referrals/${ownId}`, {
        authorization: bearer(await signed(payload())),
      });
      expectOutcome(answer, 401);
    });
  }

  it('a token the stack minted is refused by an authorizer configured for another audience', async () => {
    const token = await stack.issuer.mint(claimsFor['gp-system']);
    const event: APIGatewayTokenAuthorizerEvent = {
      type: 'TOKEN',
      authorizationToken: bearer(token),
      methodArn,
    };
    // The stack's own authorizer allows it, passing the caller on...
    const allowed = await stackAuthorizer(event);
    expect(allowed.policyDocument.Statement.map((s) => s.Effect)).toEqual(['Allow']);
    expect(allowed.context).toMatchObject({ role: 'gp-system', organisations: ownPractice });
    // ...a fresh load with the same settings too, so the refusal below is the audience alone.
    await expect((await authorizerWith({}))(event)).resolves.toMatchObject({
      principalId: claimsFor['gp-system'].subject,
    });
    await expect((await authorizerWith({ JWT_AUDIENCE: 'someone-else' }))(event)).rejects.toThrow(
      'Unauthorized',
    );
    expect(process.env.JWT_AUDIENCE).toBe(stack.issuer.audience);
  });
});

describe('the caller is who the token says, whatever the body says', () => {
  const scanPractices = async (): Promise<Array<{ referralId: string; practiceOds: string }>> => {
    const { Items = [] } = await stack.aws.documentClient.send(
      new ScanCommand({
        TableName: stack.aws.tables.referrals,
        ProjectionExpression: 'referralId, practiceOds',
        // The referrals' own items: offers and outcomes are kept beside them.
        FilterExpression: 'sk = :referral',
        ExpressionAttributeValues: { ':referral': 'referral' },
        ConsistentRead: true,
      }),
    );
    return Items as Array<{ referralId: string; practiceOds: string }>;
  };

  it('a gp-system token for A81001 may not submit a JSON referral for B82001, and nothing is stored', async () => {
    const key = randomUUID();
    const answer = await call(stack.apiUrl, 'POST', '/referrals', {
      authorization: bearer(tokens['gp-system']),
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
      body: JSON.stringify(sampleReferral(otherJson)),
    });
    expectOutcome(answer, 403);
    // Neither under the body's practice nor quietly re-bound to the token's.
    for (const practice of [otherPractice, ownPractice]) {
      const caller = claimsFor['gp-system'].subject ?? '';
      const scope = { route: '/referrals', caller, practiceOds: practice };
      const id = referralIdFor(scope, key);
      expect(await storedReferral(stack.aws, id)).toBeUndefined();
      expect(await auditOf(stack.aws, id)).toEqual([]);
    }
  });

  it('a gp-system token for A81001 may not send a BaRS message from B82001, and nothing is stored', async () => {
    const requestId = randomUUID();
    const answer = await call(stack.apiUrl, 'POST', '/$process-message', {
      authorization: bearer(tokens['gp-system']),
      headers: {
        'Content-Type': 'application/fhir+json',
        'X-Request-ID': requestId,
        'X-Correlation-ID': randomUUID(),
      },
      body: otherBars,
    });
    expectOutcome(answer, 403);
    for (const practice of [otherPractice, ownPractice]) {
      const caller = claimsFor['gp-system'].subject ?? '';
      const scope = { route: '/$process-message', caller, practiceOds: practice };
      const id = referralIdFor(scope, requestId);
      expect(await storedReferral(stack.aws, id)).toBeUndefined();
      expect(await auditOf(stack.aws, id)).toEqual([]);
    }
  });

  it('after the whole matrix, the only B82001 referral is the one its own GP system made', async () => {
    const stored = await scanPractices();
    expect(stored.filter((r) => r.practiceOds === otherPractice).map((r) => r.referralId)).toEqual([otherId]);
    // Every referral stored is for a practice some token was bound to: A81001 (matrix, setup) or B82001 (setup).
    expect(new Set(stored.map((r) => r.practiceOds))).toEqual(new Set([ownPractice, otherPractice]));
  });

  it('the same B82001 body is accepted from a token bound to B82001 (so the 403 was the binding)', async () => {
    const token = await stack.issuer.mint({ role: 'gp-system', ods: [ownPractice, otherPractice] });
    const answer = await call(stack.apiUrl, 'POST', '/referrals', {
      authorization: bearer(token),
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(sampleReferral(otherJson)),
    });
    expect(answer.status, answer.text).toBe(202);
  });
});
