import { describe, expect, it } from 'vitest';
import * as kernelErrors from '#kernel/errors.ts';
import {
  ConflictError,
  DependencyUnavailableError,
  errorOutcomes,
  ForbiddenError,
  LifecycleConflictError,
  NotFoundError,
  PayloadTooLargeError,
  RecipientRejectedError,
  DeliveryRetryError,
  UnauthorizedError,
  UnprocessableError,
  UnroutableMessageError,
  UnsupportedMediaTypeError,
  ValidationError,
  VersionConflictError,
  type BarsErrorCode,
  type IssueType,
} from '#kernel/errors.ts';
import { gatewayOutcomes, type OperationOutcome } from '#http/operation-outcome.ts';
import { clientErrorResponse, fhirJson, serverErrorResponse } from '#http/responses.ts';
import { routeKindOf, routeKinds } from '#system/route-kinds.ts';

/**
 * The one error table (kernel/errors.ts), row by row: what each typed error is answered with, rendered by
 * shared/http/responses.ts. The expectations are spelled out, so a change to the table is a change to this file.
 * The examples are as a referral route answers them; a fault of ours on a directory route differs only in its retry
 * advice (below).
 */

type Row = keyof typeof errorOutcomes;

/** Each row as the API has always answered it. `satisfies` makes tsc refuse this list when a row is added. */
const expected = {
  ValidationError: {
    status: 400,
    code: 'REC_BAD_REQUEST',
    issueTypes: ['invalid', 'required', 'value', 'structure'],
    headers: {},
  },
  PayloadTooLargeError: { status: 413, code: 'REC_PAYLOAD_TOO_LARGE', issueTypes: ['too-long'], headers: {} },
  UnsupportedMediaTypeError: {
    status: 415,
    code: 'REC_BAD_REQUEST',
    issueTypes: ['not-supported'],
    headers: {},
  },
  UnprocessableError: { status: 422, code: 'REC_UNPROCESSABLE_ENTITY', issueTypes: ['value'], headers: {} },
  UnauthorizedError: {
    status: 401,
    code: 'REC_UNAUTHORIZED',
    issueTypes: ['login'],
    headers: { 'WWW-Authenticate': 'Bearer' },
  },
  ForbiddenError: { status: 403, code: 'REC_FORBIDDEN', issueTypes: ['forbidden'], headers: {} },
  NotFoundError: { status: 404, code: 'REC_NOT_FOUND', issueTypes: ['not-found'], headers: {} },
  ConflictError: {
    status: 409,
    code: 'REC_CONFLICT',
    issueTypes: ['conflict', 'duplicate', 'transient'],
    headers: {},
  },
  LifecycleForbidden: { status: 403, code: 'REC_FORBIDDEN', issueTypes: ['forbidden'], headers: {} },
  LifecycleConflictError: { status: 409, code: 'REC_CONFLICT', issueTypes: ['conflict'], headers: {} },
  VersionConflictError: { status: 409, code: 'REC_CONFLICT', issueTypes: ['conflict'], headers: {} },
  DependencyUnavailableError: {
    status: 503,
    code: 'REC_SERVICE_UNAVAILABLE',
    issueTypes: ['transient'],
    headers: { 'Retry-After': '5' },
  },
} satisfies Record<
  Row,
  { status: number; code: BarsErrorCode; issueTypes: IssueType[]; headers: Record<string, string> }
>;

/** One class, two rows: which one answers depends on the refusal's reason. */
const lifecycleRows: Partial<Record<Row, string>> = { LifecycleForbidden: 'LifecycleConflictError' };

const lifecycleRefusal = (reason: 'invalid' | 'stale' | 'forbidden', message: string) =>
  new LifecycleConflictError({
    reason,
    entity: 'referral',
    event: 'cancel',
    state: null,
    version: 3,
    message,
  });

/** Errors of each row, with what their answer's issues and headers must be beyond the row's own. */
const examples: Record<
  Row,
  Array<{ error: Error; issues: Array<[IssueType, string, string?]>; headers?: Record<string, string> }>
> = {
  ValidationError: [
    {
      error: new ValidationError([
        { field: 'practiceOds', rule: 'is required', kind: 'required' },
        { field: '', rule: 'must be a JSON object', kind: 'structure' },
      ]),
      issues: [
        ['required', 'practiceOds: is required', 'practiceOds'],
        ['structure', 'must be a JSON object'],
      ],
    },
  ],
  PayloadTooLargeError: [
    {
      error: new PayloadTooLargeError(300_000, 262_144),
      issues: [['too-long', 'Request body is 300000 bytes; the limit is 262144 bytes']],
    },
  ],
  UnsupportedMediaTypeError: [
    {
      error: new UnsupportedMediaTypeError('Content-Type', 'must be application/json'),
      issues: [['not-supported', 'Content-Type: must be application/json', 'Content-Type']],
    },
  ],
  UnprocessableError: [
    {
      error: new UnprocessableError('practiceOds', 'practice Z99999 is not in the service directory'),
      issues: [['value', 'practiceOds: practice Z99999 is not in the service directory', 'practiceOds']],
    },
  ],
  UnauthorizedError: [
    {
      error: new UnauthorizedError('The bearer token has expired'),
      issues: [['login', 'The bearer token has expired']],
    },
  ],
  ForbiddenError: [
    {
      error: new ForbiddenError('Role partner may not call POST /referrals'),
      issues: [['forbidden', 'Role partner may not call POST /referrals']],
    },
  ],
  NotFoundError: [
    { error: new NotFoundError('No referral with id x'), issues: [['not-found', 'No referral with id x']] },
  ],
  ConflictError: [
    { error: new ConflictError('different body'), issues: [['conflict', 'different body']] },
    {
      error: new ConflictError('still in progress', false, 1),
      issues: [['transient', 'still in progress']],
      headers: { 'Retry-After': '1' },
    },
    {
      error: new ConflictError('already processed', true),
      issues: [['duplicate', 'already processed']],
      headers: {},
    },
    {
      error: new ConflictError('still in progress', true, 1),
      issues: [['transient', 'still in progress']],
      headers: { 'Retry-After': '1' },
    },
  ],
  LifecycleForbidden: [
    {
      error: lifecycleRefusal('forbidden', 'link-worker may not cancel a referral'),
      issues: [['forbidden', 'link-worker may not cancel a referral']],
    },
  ],
  LifecycleConflictError: [
    {
      error: lifecycleRefusal('invalid', 'referral is cancelled (version 3): cancel is not allowed'),
      issues: [['conflict', 'referral is cancelled (version 3): cancel is not allowed']],
    },
    {
      error: lifecycleRefusal('stale', 'referral changed: expected version 1, it is at version 2 (routed)'),
      issues: [['conflict', 'referral changed: expected version 1, it is at version 2 (routed)']],
    },
  ],
  VersionConflictError: [
    {
      error: new VersionConflictError({ kind: 'service', id: 'svc-arts' }, 'stale', 3, 2),
      issues: [
        [
          'conflict',
          'service svc-arts is at version 3, not 2: read it again and make the change on version 3; nothing was changed',
          'version',
        ],
      ],
    },
    {
      error: new VersionConflictError({ kind: 'team', id: 'lw-x' }, 'exists', 1),
      issues: [['conflict', 'team lw-x already exists (version 1); nothing was changed', 'id']],
    },
  ],
  DependencyUnavailableError: [
    {
      error: new DependencyUnavailableError('SQS refused 1 message(s)'),
      issues: [
        [
          'transient',
          'A dependency is unavailable; nothing was acknowledged. Retry with the same Idempotency-Key or X-Request-ID: a retry with it never creates a second referral.',
        ],
      ],
    },
  ],
};

/** Classes of kernel/errors.ts no HTTP route raises (queue errors): not in the table, a fault of ours if one escaped. */
const queueErrors: ReadonlyArray<new (message: string, ...rest: never[]) => Error> = [
  UnroutableMessageError,
  RecipientRejectedError,
  // The notifier's "try again after this delay": a queue record's outcome, never an HTTP answer.
  DeliveryRetryError,
];

const rows = Object.entries(errorOutcomes) as Array<[Row, (typeof errorOutcomes)[Row]]>;

function render(error: Error, fault: 'client' | 'ours') {
  const response = fault === 'client' ? clientErrorResponse(error) : serverErrorResponse(error, 'referral');
  if (!response) throw new Error(`${error.name} got no client answer`);
  return { response, outcome: JSON.parse(response.body) as OperationOutcome };
}

describe('the error table (kernel/errors.ts)', () => {
  it.each(rows)(
    '%s: status, BaRS code, issue types and headers as the API has always given them',
    (name, row) => {
      expect(row.error.name).toBe(lifecycleRows[name] ?? name);
      const { status, code, issueTypes, headers } = expected[name];
      expect({
        status: row.status,
        code: row.code,
        issueTypes: row.issueTypes,
        headers: row.headers ?? {},
      }).toEqual({
        status,
        code,
        issueTypes,
        headers,
      });
    },
  );

  it.each(rows)('%s renders as its row says, to the client or as a fault of ours', (name, row) => {
    for (const example of examples[name]) {
      // No earlier row takes it: a subclass's row must come before its parent's.
      expect(rows.find(([, each]) => each.answer(example.error, 'referral'))?.[0]).toBe(name);
      const { response, outcome } = render(example.error, row.fault);
      expect(response.statusCode).toBe(row.status);
      expect(response.headers).toEqual({ 'Content-Type': fhirJson, ...row.headers, ...example.headers });
      expect(outcome.resourceType).toBe('OperationOutcome');
      expect(
        outcome.issue.map((issue) => [issue.code, issue.diagnostics, ...(issue.expression ?? [])]),
      ).toEqual(example.issues);
      for (const issue of outcome.issue) {
        expect(row.issueTypes).toContain(issue.code);
        expect(issue.severity).toBe('error');
        expect(issue.details.coding.map((coding) => coding.code)).toEqual([row.code]);
      }
    }
  });

  it('answers a fault of ours (503) never as a client error, and a client error never as a fault', () => {
    for (const [name, row] of rows) {
      for (const { error } of examples[name]) {
        if (row.fault === 'ours') expect(clientErrorResponse(error), name).toBeUndefined();
        else
          for (const kind of routeKinds) expect(serverErrorResponse(error, kind).statusCode, name).toBe(500);
      }
    }
  });

  it('answers every error class of kernel/errors.ts: by its row, its parent class row, or as a fault of ours', () => {
    const classes = (Object.values(kernelErrors) as unknown[]).filter(
      (value): value is new (...args: never[]) => Error =>
        typeof value === 'function' && value.prototype instanceof Error,
    );
    expect(classes.length).toBeGreaterThan(rows.length);
    for (const type of classes) {
      const answered = rows.some(([, row]) => type === row.error || type.prototype instanceof row.error);
      expect(
        answered || queueErrors.includes(type as new (message: string, ...rest: never[]) => Error),
        type.name,
      ).toBe(true);
    }
  });

  it.each(queueErrors)('%o is not in the table: if one escaped a route it would be a 500', (type) => {
    const error = new type('referral x does not exist');
    expect(clientErrorResponse(error)).toBeUndefined();
    const response = serverErrorResponse(error, 'referral');
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('referral x');
    expect((JSON.parse(response.body) as OperationOutcome).issue.map((issue) => issue.code)).toEqual([
      'exception',
    ]);
  });
});

describe('what a fault of ours tells the caller about retrying, by what the route acts on', () => {
  const referralAdvice =
    'nothing was acknowledged. Retry with the same Idempotency-Key or X-Request-ID: a retry with it never creates a second referral.';
  const directoryAdvice =
    'if this was a change, it may or may not have been applied. Read the record (GET) and its version before retrying, and make the change again only on the version stored.';
  const diagnosticsOf = (error: unknown, kind: (typeof routeKinds)[number]) =>
    (JSON.parse(serverErrorResponse(error, kind).body) as OperationOutcome).issue.map((i) => i.diagnostics);

  it('the directory admin API is `directory`; every other function serves `referral` routes', () => {
    expect(routeKindOf('directoryAdmin')).toBe('directory');
    for (const fn of ['intake', 'referralStatus', 'metadata'] as const)
      expect(routeKindOf(fn)).toBe('referral');
  });

  it.each([
    [
      'a dependency unavailable (503)',
      new DependencyUnavailableError('SQS refused'),
      'A dependency is unavailable',
    ],
    ['anything else (500)', new Error('boom 9434765919'), 'Internal error'],
  ])(
    '%s: a referral route names the key, a directory route says to read the record first',
    (_name, error, what) => {
      expect(diagnosticsOf(error, 'referral')).toEqual([`${what}; ${referralAdvice}`]);
      expect(diagnosticsOf(error, 'directory')).toEqual([`${what}; ${directoryAdvice}`]);
      // Idempotency keys mean nothing to the directory API, and neither answer tells the cause.
      expect(serverErrorResponse(error, 'directory').body).not.toContain('Idempotency-Key');
      for (const kind of routeKinds) {
        expect(serverErrorResponse(error, kind).body).not.toContain('SQS refused');
        expect(serverErrorResponse(error, kind).body).not.toContain('9434765919');
      }
    },
  );

  it('the status, code and headers do not depend on it, and a client error is answered alike on both', () => {
    const unavailable = new DependencyUnavailableError('x');
    const { body: _referralBody, ...referral } = serverErrorResponse(unavailable, 'referral');
    const { body: _directoryBody, ...directory } = serverErrorResponse(unavailable, 'directory');
    expect(directory).toEqual(referral);
    for (const [name, row] of rows)
      if (row.fault === 'client')
        for (const { error } of examples[name])
          expect(row.answer(error, 'directory'), name).toEqual(row.answer(error, 'referral'));
  });
});

describe("the gateway's own answers (shared/http/operation-outcome.ts)", () => {
  /** Each as API Gateway and the local gateway have always given it: status, code, issue type, headers, text. */
  const given: Record<
    keyof typeof gatewayOutcomes,
    [number, BarsErrorCode, IssueType, Record<string, string>, string]
  > = {
    notFound: [404, 'REC_NOT_FOUND', 'not-found', {}, 'No such route: docs/api.md lists the routes offered'],
    payloadTooLarge: [
      413,
      'REC_PAYLOAD_TOO_LARGE',
      'too-long',
      {},
      'Request body exceeds the 256 KB limit for a referral',
    ],
    unauthorized: [
      401,
      'REC_UNAUTHORIZED',
      'login',
      { 'WWW-Authenticate': 'Bearer' },
      'A valid bearer token is required (Authorization: Bearer <JWT>)',
    ],
    forbidden: [403, 'REC_FORBIDDEN', 'forbidden', {}, 'The token does not allow this'],
    throttled: [
      429,
      'SEND_TOO_MANY_REQUESTS',
      'throttled',
      {},
      'Too many requests: retry after the interval in Retry-After',
    ],
    badRequestBody: [400, 'REC_BAD_REQUEST', 'invalid', {}, 'Request could not be read by the gateway'],
    malformedPath: [
      400,
      'REC_BAD_REQUEST',
      'invalid',
      {},
      'The request path has a malformed percent-escape (% must start %XX)',
    ],
    headersTooLarge: [
      431,
      'REC_BAD_REQUEST',
      'too-long',
      {},
      'Request line and headers exceed the 10240-byte limit (API Gateway: request line and header values)',
    ],
    gatewayError: [
      502,
      'REC_SERVER_ERROR',
      'exception',
      {},
      'The gateway could not complete the request; nothing was acknowledged',
    ],
  };

  it.each(Object.entries(gatewayOutcomes))('%s', (name, answer) => {
    const [status, code, issueType, headers, diagnostics] = given[name as keyof typeof gatewayOutcomes];
    expect(answer.status).toBe(status);
    expect(answer.headers).toEqual(headers);
    expect(answer.body.issue).toEqual([
      expect.objectContaining({
        severity: 'error',
        code: issueType,
        diagnostics,
        details: { coding: [expect.objectContaining({ code })] },
      }),
    ]);
  });

  it('gives the status, code and headers of the error row it shares with the functions', () => {
    const shared = {
      notFound: errorOutcomes.NotFoundError,
      payloadTooLarge: errorOutcomes.PayloadTooLargeError,
      unauthorized: errorOutcomes.UnauthorizedError,
      forbidden: errorOutcomes.ForbiddenError,
      badRequestBody: errorOutcomes.ValidationError,
      malformedPath: errorOutcomes.ValidationError,
    } as const;
    for (const [name, row] of Object.entries(shared)) {
      const answer = gatewayOutcomes[name as keyof typeof shared];
      expect(answer.status, name).toBe(row.status);
      expect(answer.headers, name).toEqual(row.headers ?? {});
      expect(answer.body.issue[0]?.details.coding[0]?.code, name).toBe(row.code);
    }
  });
});
