/**
 * Errors the domain and use cases raise, and the ONE table (`errorOutcomes`, at the end) saying how each is
 * answered: HTTP status, BaRS error code, FHIR issue types, extra headers. The table is data here, so the domain can
 * own it without knowing HTTP; shared/http/responses.ts renders it, and the gateway's own answers
 * (shared/http/operation-outcome.ts) take their rows from it. Anything else that escapes is a fault of ours.
 */
import type { RouteKind } from '#system/route-kinds.ts';

/** BaRS error codes we answer with (https://fhir.nhs.uk/CodeSystem/http-error-codes). */
export const barsErrorCodes = [
  'REC_BAD_REQUEST',
  'REC_UNAUTHORIZED',
  'REC_FORBIDDEN',
  'REC_NOT_FOUND',
  'REC_NOT_ACCEPTABLE',
  'REC_CONFLICT',
  'REC_UNPROCESSABLE_ENTITY',
  'REC_PAYLOAD_TOO_LARGE',
  'SEND_TOO_MANY_REQUESTS',
  'REC_SERVER_ERROR',
  'REC_SERVICE_UNAVAILABLE',
] as const;
export type BarsErrorCode = (typeof barsErrorCodes)[number];

/** FHIR issue-type codes we use (http://hl7.org/fhir/issue-type). */
export const issueTypes = [
  'invalid',
  'structure',
  'required',
  'value',
  'invariant',
  'not-supported',
  'too-long',
  'not-found',
  'conflict',
  'duplicate',
  'processing',
  'throttled',
  'login',
  'forbidden',
  'transient',
  'exception',
] as const;
export type IssueType = (typeof issueTypes)[number];

/** One issue of an OperationOutcome, before it is given its severity and BaRS coding. */
export interface OutcomeIssue {
  code: IssueType;
  /** Human-readable: the field and the rule it broke. */
  diagnostics: string;
  /** Path of the offending element, e.g. `patient.nhsNumber`. */
  expression?: string;
}

export interface FieldProblem {
  /** Dotted path of the offending field, e.g. `patient.nhsNumber`; empty for the whole body. */
  field: string;
  /** The rule it broke, in words a developer integrating with us can act on. */
  rule: string;
  kind: 'required' | 'invalid' | 'value' | 'structure';
}

export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(readonly problems: FieldProblem[]) {
    super(problems.map((p) => `${p.field || '(body)'}: ${p.rule}`).join('; '));
  }
}

export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';
  constructor(
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(`Request body is ${sizeBytes} bytes; the limit is ${limitBytes} bytes`);
  }
}

/**
 * The body is in a media type or content coding the route does not read (415). `header` names the request header
 * at fault (`Content-Type` or `Content-Encoding`); the message never quotes the body.
 */
export class UnsupportedMediaTypeError extends Error {
  override readonly name = 'UnsupportedMediaTypeError';
  constructor(
    readonly header: 'Content-Type' | 'Content-Encoding',
    message: string,
  ) {
    super(message);
  }
}

/** The request is well formed but refers to something we cannot act on (e.g. a practice not in the directory). */
export class UnprocessableError extends Error {
  override readonly name = 'UnprocessableError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A well-formed BaRS message this receiver does not process (another event, `delete`, another use case): 422.
 * A subclass of `UnprocessableError`, so it is answered as one (422 REC_UNPROCESSABLE_ENTITY, `expression` =
 * `this.expression`, also available as `field`); its own name tells the two apart in logs and tests.
 */
export class UnsupportedMessageError extends UnprocessableError {
  constructor(
    readonly expression: string,
    message: string,
  ) {
    super(expression, message);
    // `name` is declared readonly 'UnprocessableError' on the parent, so it is redefined rather than overridden.
    Object.defineProperty(this, 'name', { value: 'UnsupportedMessageError' });
  }
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** Same idempotency key, different request; or a state change that the current state forbids. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
  constructor(
    message: string,
    readonly duplicate = false,
    /** Set when the conflict will clear by itself (the first request is still in progress). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/**
 * A directory record (team, partner, service) was edited on a version other than the one stored (`stale`), or
 * created with an id that is taken (`exists`): 409, naming the version stored, so the client reads the record again
 * and makes its change on that version. Nothing was written.
 */
export class VersionConflictError extends Error {
  override readonly name = 'VersionConflictError';
  constructor(
    readonly record: { kind: string; id: string },
    readonly reason: 'stale' | 'exists',
    readonly storedVersion: number,
    readonly expectedVersion?: number,
  ) {
    super(
      reason === 'exists'
        ? `${record.kind} ${record.id} already exists (version ${storedVersion}); nothing was changed`
        : `${record.kind} ${record.id} is at version ${storedVersion}, not ${expectedVersion ?? '?'}: read it again and make the change on version ${storedVersion}; nothing was changed`,
    );
  }
}

/** A dependency failed; the client may retry (with the same idempotency key) and nothing was acknowledged. */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';
}

/** No verified caller where one is required. */
export class UnauthorizedError extends Error {
  override readonly name = 'UnauthorizedError';
}

/** The caller's role or organisation may not do this. */
export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}

/**
 * A lifecycle transition the state machine (#referral/domain/lifecycle.ts `decide`) or the store's conditional
 * write refused: `invalid` (the state does not allow the event), `stale` (the entity moved on since the caller read
 * it) or `forbidden` (the role may not do the event at all). Here, not beside the state machine, because it is
 * answered like every other typed error: 403 when forbidden, else 409 with the message, which names the state and
 * the version. The refusal is structural so the kernel needs nothing of the referral domain.
 */
export class LifecycleConflictError extends Error {
  override readonly name = 'LifecycleConflictError';
  readonly entity: string;
  readonly event: string;
  readonly reason: 'invalid' | 'stale' | 'forbidden';
  readonly state: string | null;
  readonly version: number;

  constructor(refusal: {
    reason: 'invalid' | 'stale' | 'forbidden';
    entity: string;
    event: string;
    state: string | null;
    version: number;
    message: string;
  }) {
    super(refusal.message);
    this.entity = refusal.entity;
    this.event = refusal.event;
    this.reason = refusal.reason;
    this.state = refusal.state;
    this.version = refusal.version;
  }
}

/**
 * A queue message that can never succeed (e.g. it names no referral): thrown so that SQS moves it to the DLQ.
 * Raised by the router and the notifier, never answered to an HTTP client (were it to escape a route, it would be a
 * fault of ours).
 */
export class UnroutableMessageError extends Error {
  override readonly name = 'UnroutableMessageError';
}

/** A recipient's webhook did not answer 2xx: the notifier throws, so SQS retries the notice, then dead-letters it. */
export class RecipientRejectedError extends Error {
  override readonly name = 'RecipientRejectedError';
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * A push that did not succeed and is worth trying again after `delaySeconds` (the retry policy's backoff or the
 * recipient's Retry-After): the notifier holds the queue message back that long, then fails the record.
 */
export class DeliveryRetryError extends Error {
  override readonly name = 'DeliveryRetryError';
  constructor(
    message: string,
    readonly delaySeconds: number,
  ) {
    super(message);
  }
}

// ---- How each error is answered ---------------------------------------------------------------------------------

/**
 * Problems one OperationOutcome lists. A body of thousands of bad entries would otherwise get an answer several
 * times its own size; past this, one final issue says how many more there were.
 */
export const maxOutcomeIssues = 100;
/** Characters of a client-derived diagnostics text kept (a field path is built from the client's own keys). */
const maxDiagnosticsLength = 500;

const clip = (text: string): string =>
  text.length <= maxDiagnosticsLength ? text : `${text.slice(0, maxDiagnosticsLength)}...`;

/**
 * What a fault of ours tells the client besides that it happened (never its cause): how to retry, which depends on
 * what the route acts on. A referral route acknowledges nothing it has not finished, and its key makes a retry
 * safe. A directory change may have been stored before the fault (its index work failed, the answer was lost), so
 * its caller is told to look before sending it again: the version guard refuses a change on a version that moved on.
 */
export const retryAdvice: Readonly<Record<RouteKind, string>> = {
  referral:
    'nothing was acknowledged. Retry with the same Idempotency-Key or X-Request-ID: a retry with it never creates a second referral.',
  directory:
    'if this was a change, it may or may not have been applied. Read the record (GET) and its version before retrying, and make the change again only on the version stored.',
};

/** One answer, ready to render: shared/http/responses.ts turns it into the HTTP response and OperationOutcome. */
export interface ErrorAnswer {
  status: number;
  code: BarsErrorCode;
  issues: OutcomeIssue[];
  headers: Record<string, string>;
}

/** One row of the table: how every error of one class is answered. */
export interface ErrorOutcome {
  /** The class answered, and its subclasses (e.g. `UnsupportedMessageError` is answered as `UnprocessableError`). */
  readonly error: abstract new (...args: never[]) => Error;
  readonly status: number;
  readonly code: BarsErrorCode;
  /** Every issue type its issues may carry; the first is the one a bare answer of this kind (the gateway's) carries. */
  readonly issueTypes: readonly [IssueType, ...IssueType[]];
  /** Headers every answer of this row carries. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * `client`: the client can act on it (logged as a refusal). `ours`: a fault of ours (logged as an error), told
   * without its internals.
   */
  readonly fault: 'client' | 'ours';
  /**
   * The answer to `error` when it is of this row's class (and matches its `when`); undefined otherwise. `route`:
   * what the failed route acts on, by which a fault of ours words its retry advice (a client's mistake is answered
   * alike on every route).
   */
  answer(error: unknown, route: RouteKind): ErrorAnswer | undefined;
}

/** A row as written below: the data, plus the issues (and any headers) an error of the class gives. */
interface RowSpec<E extends Error> extends Omit<ErrorOutcome, 'error' | 'answer'> {
  issues: (error: E, route: RouteKind) => OutcomeIssue[];
  /** Headers that depend on the error (e.g. Retry-After when the error knows when to retry). */
  headersOf?: (error: E) => Record<string, string>;
  /** Only errors of the class this holds for (one class answered two ways by what it carries). */
  when?: (error: E) => boolean;
}

function row<E extends Error>(error: abstract new (...args: never[]) => E, spec: RowSpec<E>): ErrorOutcome {
  const { issues, headersOf, when, ...data } = spec;
  return {
    error,
    ...data,
    answer: (thrown, route) =>
      thrown instanceof error && (when?.(thrown) ?? true)
        ? {
            status: data.status,
            code: data.code,
            issues: issues(thrown, route),
            headers: { ...data.headers, ...headersOf?.(thrown) },
          }
        : undefined,
  };
}

/** The one issue most rows give: the error's own message, which never quotes a request body. */
const saying =
  (code: IssueType) =>
  (error: Error): OutcomeIssue[] => [{ code, diagnostics: error.message }];

/**
 * THE table: each typed error -> status, BaRS code, FHIR issue types, headers. Rows are tried in order, so a
 * subclass with a row of its own must come before its parent's. A class not here (a plain Error, a queue error such
 * as `UnroutableMessageError` or `RecipientRejectedError`) is answered as `unexpectedFault`.
 */
export const errorOutcomes = {
  ValidationError: row(ValidationError, {
    status: 400,
    code: 'REC_BAD_REQUEST',
    issueTypes: ['invalid', 'required', 'value', 'structure'],
    fault: 'client',
    issues: ({ problems }) => [
      ...problems.slice(0, maxOutcomeIssues).map((p) => ({
        code: p.kind,
        diagnostics: clip(p.field ? `${p.field}: ${p.rule}` : p.rule),
        ...(p.field ? { expression: clip(p.field) } : {}),
      })),
      ...(problems.length > maxOutcomeIssues
        ? [
            {
              code: 'invalid' as const,
              diagnostics: `${problems.length - maxOutcomeIssues} more problems not listed (${problems.length} in all); fix these and resend to see the rest`,
            },
          ]
        : []),
    ],
  }),
  PayloadTooLargeError: row(PayloadTooLargeError, {
    status: 413,
    code: 'REC_PAYLOAD_TOO_LARGE',
    issueTypes: ['too-long'],
    fault: 'client',
    issues: saying('too-long'),
  }),
  // BaRS's http-error-codes has no 415 code of its own; REC_BAD_REQUEST with issue code not-supported is the code
  // BaRS gives for a feature the receiver does not support.
  UnsupportedMediaTypeError: row(UnsupportedMediaTypeError, {
    status: 415,
    code: 'REC_BAD_REQUEST',
    issueTypes: ['not-supported'],
    fault: 'client',
    issues: (error) => [
      { code: 'not-supported', diagnostics: `${error.header}: ${error.message}`, expression: error.header },
    ],
  }),
  UnprocessableError: row(UnprocessableError, {
    status: 422,
    code: 'REC_UNPROCESSABLE_ENTITY',
    issueTypes: ['value'],
    fault: 'client',
    issues: (error) => [
      { code: 'value', diagnostics: `${error.field}: ${error.message}`, expression: error.field },
    ],
  }),
  UnauthorizedError: row(UnauthorizedError, {
    status: 401,
    code: 'REC_UNAUTHORIZED',
    issueTypes: ['login'],
    // RFC 6750: a 401 names the scheme to use, as API Gateway's own 401 does.
    headers: { 'WWW-Authenticate': 'Bearer' },
    fault: 'client',
    issues: saying('login'),
  }),
  ForbiddenError: row(ForbiddenError, {
    status: 403,
    code: 'REC_FORBIDDEN',
    issueTypes: ['forbidden'],
    fault: 'client',
    issues: saying('forbidden'),
  }),
  NotFoundError: row(NotFoundError, {
    status: 404,
    code: 'REC_NOT_FOUND',
    issueTypes: ['not-found'],
    fault: 'client',
    issues: saying('not-found'),
  }),
  ConflictError: row(ConflictError, {
    status: 409,
    code: 'REC_CONFLICT',
    issueTypes: ['conflict', 'duplicate', 'transient'],
    fault: 'client',
    // `duplicate` means "already processed": a conflict that will clear by itself (the first request is still in
    // progress, nothing acknowledged yet) is `transient`, so a sender never takes "wait" for "done" and stops.
    issues: (error) => [
      {
        code:
          error.retryAfterSeconds !== undefined ? 'transient' : error.duplicate ? 'duplicate' : 'conflict',
        diagnostics: error.message,
      },
    ],
    headersOf: ({ retryAfterSeconds }): Record<string, string> =>
      retryAfterSeconds === undefined ? {} : { 'Retry-After': String(retryAfterSeconds) },
  }),
  // Two rows for one class, by the refusal's reason; the forbidden one first, since rows are tried in order.
  LifecycleForbidden: row(LifecycleConflictError, {
    status: 403,
    code: 'REC_FORBIDDEN',
    issueTypes: ['forbidden'],
    fault: 'client',
    when: (error) => error.reason === 'forbidden',
    issues: saying('forbidden'),
  }),
  LifecycleConflictError: row(LifecycleConflictError, {
    status: 409,
    code: 'REC_CONFLICT',
    issueTypes: ['conflict'],
    fault: 'client',
    issues: saying('conflict'),
  }),
  VersionConflictError: row(VersionConflictError, {
    status: 409,
    code: 'REC_CONFLICT',
    issueTypes: ['conflict'],
    fault: 'client',
    issues: (error) => [
      {
        code: 'conflict',
        diagnostics: error.message,
        ...(error.reason === 'stale' ? { expression: 'version' } : { expression: 'id' }),
      },
    ],
  }),
  // The cause (which dependency, what it said) stays in our logs; the client learns only how to retry.
  DependencyUnavailableError: row(DependencyUnavailableError, {
    status: 503,
    code: 'REC_SERVICE_UNAVAILABLE',
    issueTypes: ['transient'],
    headers: { 'Retry-After': '5' },
    fault: 'ours',
    issues: (_error, route) => [
      { code: 'transient', diagnostics: `A dependency is unavailable; ${retryAdvice[route]}` },
    ],
  }),
} satisfies Record<string, ErrorOutcome>;

/** Anything else thrown, whatever it is: a fault of ours, told without its internals. */
export const unexpectedFault = (route: RouteKind): ErrorAnswer => ({
  status: 500,
  code: 'REC_SERVER_ERROR',
  issues: [{ code: 'exception', diagnostics: `Internal error; ${retryAdvice[route]}` }],
  headers: {},
});
