/**
 * Limits on the shape of a JSON request body, checked right after `JSON.parse` and before any schema or mapping
 * code walks it: a body too deep or too wide to process is refused as a client error (400) instead of exhausting
 * the stack or the event loop further in. Every walk here is iterative and linear in the size of the body.
 *
 * The largest valid example (events/fhir/new-referral-variants.json) is 12 levels deep, 292 values, its longest
 * array 12 and its widest object 14 keys; the limits leave room for richer real-world Bundles.
 */

/** Nesting of objects and arrays; the body itself is level 1. */
export const maxJsonDepth = 32;
/** Values of any kind (objects, arrays, strings, numbers, booleans, nulls) in the whole body. */
export const maxJsonNodes = 10_000;
/** Items in any one array. */
export const maxJsonArrayLength = 1_000;
/** Keys in any one object. */
export const maxJsonObjectKeys = 200;

export interface JsonStructureProblem {
  /** Path from the body to the first offending value (keys and array indexes). */
  path: Array<string | number>;
  rule: string;
}

interface Frame {
  value: unknown;
  depth: number;
  /** Index of the parent frame in `seen`, -1 for the body. */
  parent: number;
  key: string | number;
}

/**
 * The first value (in document order) that breaks one of the limits, or undefined when the body is within them.
 * Paths are rebuilt from parent links only on failure, so a deep body costs no string building.
 */
export function jsonStructureProblem(body: unknown): JsonStructureProblem | undefined {
  const seen: Frame[] = [];
  const stack: Frame[] = [{ value: body, depth: 1, parent: -1, key: '' }];
  const pathOf = (frame: Frame): Array<string | number> => {
    const path: Array<string | number> = [];
    for (let at: Frame | undefined = frame; at !== undefined && at.parent !== -1; at = seen[at.parent]) {
      path.push(at.key);
    }
    return path.reverse();
  };

  while (stack.length > 0) {
    const frame = stack.pop() as Frame;
    seen.push(frame);
    const self = seen.length - 1;
    if (seen.length > maxJsonNodes) {
      return { path: pathOf(frame), rule: `the body holds more than ${maxJsonNodes} values` };
    }
    const { value } = frame;
    if (value === null || typeof value !== 'object') continue;
    if (frame.depth > maxJsonDepth) {
      return {
        path: pathOf(frame),
        rule: `is nested deeper than ${maxJsonDepth} levels of objects and arrays`,
      };
    }
    const depth = frame.depth + 1;
    if (Array.isArray(value)) {
      if (value.length > maxJsonArrayLength) {
        return { path: pathOf(frame), rule: `has more than ${maxJsonArrayLength} items` };
      }
      // Children pushed last-first, so they are visited (and reported) in document order.
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push({ value: value[i] as unknown, depth, parent: self, key: i });
      }
    } else {
      const keys = Object.keys(value);
      if (keys.length > maxJsonObjectKeys) {
        return { path: pathOf(frame), rule: `has more than ${maxJsonObjectKeys} fields` };
      }
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        stack.push({ value: (value as Record<string, unknown>)[key], depth, parent: self, key });
      }
    }
  }
  return undefined;
}

/**
 * Where a text that `JSON.parse` refused first stops being JSON (RFC 8259), as an offset into the text; the text's
 * length when it ends too early. Used only to tell the client *where* the error is: V8's own messages quote the
 * body, and nothing from the body is ever echoed back. Undefined if no error is found.
 */
export function jsonSyntaxErrorOffset(text: string): number | undefined {
  type State = 'value' | 'valueOrClose' | 'key' | 'keyOrClose' | 'colon' | 'after';
  const closers: string[] = [];
  let state: State = 'value';
  let i = 0;
  const n = text.length;

  for (;;) {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
    if (i >= n) return state === 'after' && closers.length === 0 ? undefined : n;
    const c = text[i] as string;
    if (state === 'after') {
      const closer = closers[closers.length - 1];
      if (closer === undefined) return i; // something after the complete value
      if (c === ',') {
        i++;
        state = closer === '}' ? 'key' : 'value';
      } else if (c === closer) {
        i++;
        closers.pop();
      } else return i;
      continue;
    }
    if (state === 'colon') {
      if (c !== ':') return i;
      i++;
      state = 'value';
      continue;
    }
    if (state === 'keyOrClose' || state === 'key') {
      if (state === 'keyOrClose' && c === '}') {
        i++;
        closers.pop();
        state = 'after';
        continue;
      }
      if (c !== '"') return i;
      const end = stringEnd(text, i);
      if (end < 0) return -end - 1;
      i = end;
      state = 'colon';
      continue;
    }
    // state is 'value' or 'valueOrClose'
    if (state === 'valueOrClose' && c === ']') {
      i++;
      closers.pop();
      state = 'after';
      continue;
    }
    if (c === '{') {
      closers.push('}');
      i++;
      state = 'keyOrClose';
      continue;
    }
    if (c === '[') {
      closers.push(']');
      i++;
      state = 'valueOrClose';
      continue;
    }
    let end: number;
    if (c === '"') end = stringEnd(text, i);
    else if (c === '-' || (c >= '0' && c <= '9')) end = numberEnd(text, i);
    else end = literalEnd(text, i);
    if (end < 0) return -end - 1;
    i = end;
    state = 'after';
  }
}

/** End (exclusive) of the string starting at the quote at `start`, or -(offset of the error) - 1. */
function stringEnd(text: string, start: number): number {
  let j = start + 1;
  while (j < text.length) {
    const code = text.charCodeAt(j);
    if (code === 0x22) return j + 1;
    if (code < 0x20) return -j - 1;
    if (code === 0x5c) {
      const escaped = text[j + 1];
      if (escaped === undefined) return -text.length - 1;
      if ('"\\/bfnrt'.includes(escaped)) j += 2;
      else if (escaped === 'u') {
        for (let h = 2; h < 6; h++) {
          const hex = text[j + h];
          if (hex === undefined) return -text.length - 1;
          if (!/[0-9a-fA-F]/.test(hex)) return -(j + h) - 1;
        }
        j += 6;
      } else return -(j + 1) - 1;
    } else j++;
  }
  return -text.length - 1;
}

function numberEnd(text: string, start: number): number {
  let j = start;
  const digits = () => {
    const from = j;
    for (let code = text.charCodeAt(j); code >= 0x30 && code <= 0x39; code = text.charCodeAt(j)) j++;
    return j - from;
  };
  if (text[j] === '-') j++;
  if (text[j] === '0') j++;
  else if (digits() === 0) return -j - 1;
  if (text[j] === '.') {
    j++;
    if (digits() === 0) return -j - 1;
  }
  if (text[j] === 'e' || text[j] === 'E') {
    j++;
    if (text[j] === '+' || text[j] === '-') j++;
    if (digits() === 0) return -j - 1;
  }
  return j;
}

function literalEnd(text: string, start: number): number {
  for (const literal of ['true', 'false', 'null']) {
    if (text[start] !== literal[0]) continue;
    for (let k = 1; k < literal.length; k++) {
      if (text[start + k] !== literal[k]) return -(start + k) - 1;
    }
    return start + literal.length;
  }
  return -start - 1;
}

/** 1-based line and column of an offset, for a message a person can find the error with. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
