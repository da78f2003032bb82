/**
 * Errors the domain and use cases raise, typed so that one place (shared/http/responses.ts) maps each to an
 * HTTP status and an OperationOutcome. Anything else that escapes is a server fault.
 */

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
