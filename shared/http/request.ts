import type { APIGatewayProxyEvent } from 'aws-lambda';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '#kernel/errors.ts';
import { safeKey } from '#kernel/validation.ts';
import { jsonStructureProblem, jsonSyntaxErrorOffset, lineAndColumn } from '#http/json-limits.ts';

/**
 * Reading an API Gateway request body: media type and content coding first (415), then size (413), then JSON
 * syntax and structure (400), then the schema (400 naming every offending field and its rule). Never throws
 * anything but the typed errors above, and no message ever quotes the body.
 */

/** Media types each intake route reads (RFC 9110: case-insensitive; `charset`, if given, must be utf-8). */
export const jsonMediaTypes = ['application/json'] as const;
/** BaRS senders use application/fhir+json; some send plain application/json. */
export const fhirMediaTypes = ['application/fhir+json', 'application/json'] as const;

type Headers = Record<string, string | undefined> | null | undefined;

function headerValue(headers: Headers, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.toLowerCase() === wanted && value !== undefined) return value;
  }
  return undefined;
}

/**
 * Refuses (415) a body that is not declared as one of `accepted`, or that is content-coded (gzip, br, ...): the
 * function never decompresses, and reading compressed bytes as JSON only produces garbage errors. A missing
 * Content-Type is refused too: every sender we know declares it, and guessing is how form data became JSON.
 */
export function assertMediaType(event: { headers?: Headers }, accepted: readonly string[]): void {
  const encoding = headerValue(event.headers, 'Content-Encoding');
  const codings = (encoding ?? '').split(',').map((coding) => coding.trim().toLowerCase());
  if (!codings.every((coding) => coding === '' || coding === 'identity')) {
    throw new UnsupportedMediaTypeError(
      'Content-Encoding',
      'content codings are not supported: send the body uncompressed (identity)',
    );
  }
  const expected = accepted.join(' or ');
  const contentType = headerValue(event.headers, 'Content-Type');
  if (contentType === undefined) {
    throw new UnsupportedMediaTypeError('Content-Type', `header is required: ${expected}`);
  }
  if (contentType.length > 200) {
    throw new UnsupportedMediaTypeError('Content-Type', `must be ${expected}`);
  }
  const [type = '', ...parameters] = contentType.split(';');
  const mediaType = type.trim().toLowerCase();
  if (!accepted.includes(mediaType)) {
    throw new UnsupportedMediaTypeError('Content-Type', `must be ${expected}`);
  }
  for (const parameter of parameters) {
    const [name = '', value = ''] = parameter.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    const charset = value
      .trim()
      .replace(/^"(.*)"$/, '$1')
      .toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') {
      throw new UnsupportedMediaTypeError('Content-Type', 'charset must be utf-8');
    }
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function bodyText(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>,
  limitBytes: number,
): string {
  const raw = event.body ?? '';
  if (!event.isBase64Encoded) {
    const size = Buffer.byteLength(raw, 'utf8');
    if (size > limitBytes) throw new PayloadTooLargeError(size, limitBytes);
    // A text body has already been decoded (by API Gateway, or the local gateway), and invalid UTF-8 became
    // U+FFFD on the way: refuse it here rather than store a name with a replacement character in it.
    if (raw.includes(replacementCharacter)) throw notUtf8();
    return raw;
  }
  const bytes = Buffer.from(raw, 'base64');
  if (bytes.length > limitBytes) throw new PayloadTooLargeError(bytes.length, limitBytes);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    // Invalid UTF-8 would otherwise become U+FFFD in stored text; the bytes themselves are never echoed.
    throw notUtf8();
  }
  if (text.includes(replacementCharacter)) throw notUtf8();
  return text;
}

/** U+FFFD: what a lenient decoder puts where a byte sequence was not UTF-8. */
const replacementCharacter = '\uFFFD';

const notUtf8 = (): ValidationError =>
  new ValidationError([
    {
      field: '',
      rule: 'body is not valid UTF-8 (or holds U+FFFD, the replacement character)',
      kind: 'structure',
    },
  ]);

export interface ParseJsonOptions {
  /**
   * Render structure problems as FHIRPath under this root (`Bundle.entry[0].resource`) instead of the dotted
   * field paths of the JSON route (`patient.name.given`).
   */
  expressionRoot?: string;
}

/**
 * JSON syntax, then the structural limits of json-limits.ts (depth, values, array items, object keys), both as a
 * 400 ValidationError before any schema walks the body. A syntax error is located by line and column only.
 */
export function parseJson(text: string, options: ParseJsonOptions = {}): unknown {
  if (text.trim() === '') {
    throw new ValidationError([{ field: '', rule: 'a JSON body is required', kind: 'required' }]);
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError([
      { field: '', rule: `body is not valid JSON (${syntaxErrorLocation(text)})`, kind: 'structure' },
    ]);
  }
  const problem = jsonStructureProblem(body);
  if (problem !== undefined) {
    const field = renderPath(problem.path, options.expressionRoot);
    throw new ValidationError([{ field, rule: problem.rule, kind: 'structure' }]);
  }
  return body;
}

function syntaxErrorLocation(text: string): string {
  const offset = jsonSyntaxErrorOffset(text);
  if (offset === undefined) return 'unreadable';
  const { line, column } = lineAndColumn(text, offset);
  const where = `line ${line}, column ${column}`;
  return offset >= text.length ? `it ends too early, at ${where}` : `unexpected character at ${where}`;
}

function renderPath(path: ReadonlyArray<string | number>, root: string | undefined): string {
  if (root === undefined) return path.map(safeKey).join('.');
  return path.reduce<string>(
    (expression, key) =>
      typeof key === 'number' ? `${expression}[${key}]` : `${expression}.${safeKey(key)}`,
    root,
  );
}
