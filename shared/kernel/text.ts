import * as z from 'zod';

/**
 * Text a person will read (names, free text, ids a sender types): normalised to NFC, trimmed, bounded, and free of
 * characters that make it unusable or misleading on a recipient's screen: controls (C0, DEL, C1), bidirectional
 * overrides and isolates (which can make text display as something else), invisible zero-width characters, lone
 * surrogates and noncharacters. Both intake forms reach these rules through the one `ReferralRequest` schema.
 *
 * Every check is a single pass over the code points (no regular expression that can backtrack), and the raw length
 * is capped before any work is done, so a hostile string costs at most linear time in a bounded length.
 */

/** Why a character is refused, or undefined for one we keep. `multiline` allows tab and line breaks. */
function refusal(code: number, multiline: boolean): string | undefined {
  if (code === 0x09 || code === 0x0a || code === 0x0d) return multiline ? undefined : 'a tab or line break';
  if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return 'a control character';
  if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) {
    return 'a bidirectional override or isolate';
  }
  if (code === 0x200b || code === 0x2060 || code === 0xfeff) return 'an invisible zero-width character';
  if (code >= 0xd800 && code <= 0xdfff) return 'a lone surrogate (not valid Unicode)';
  if ((code >= 0xfdd0 && code <= 0xfdef) || (code & 0xfffe) === 0xfffe) return 'a Unicode noncharacter';
  return undefined;
}

const letterOrMark = /[\p{L}\p{M}]/u;

/**
 * The first unusable character in `text`, described (never quoted) with its position, or undefined.
 * Zero-width joiner and non-joiner (U+200C, U+200D) are part of how Persian, Indic and other scripts are written, so
 * they are kept between two letters and refused anywhere else (where they only hide something).
 */
export function unusableCharacter(text: string, multiline = false): string | undefined {
  const points = Array.from(text);
  for (let i = 0; i < points.length; i++) {
    const point = points[i] as string;
    const code = point.codePointAt(0) ?? 0;
    let why = refusal(code, multiline);
    if (why === undefined && (code === 0x200c || code === 0x200d)) {
      const between = letterOrMark.test(points[i - 1] ?? '') && letterOrMark.test(points[i + 1] ?? '');
      if (!between) why = 'an invisible zero-width character';
    }
    if (why !== undefined) {
      return `must not contain ${why} (U+${code.toString(16).toUpperCase().padStart(4, '0')} at character ${i + 1})`;
    }
  }
  return undefined;
}

/** NFC, then trimmed. Only called on text already capped in length. */
export function normaliseText(text: string): string {
  return text.normalize('NFC').trim();
}

export function hasLetter(text: string): boolean {
  return /\p{L}/u.test(text);
}

interface TextOptions {
  /** Most characters once normalised. */
  max: number;
  min?: number;
  /** Allow tabs and line breaks (free text). */
  multiline?: boolean;
  /** Require at least one letter (names). */
  letter?: boolean;
}

/**
 * A zod schema for text: the length as sent is capped first (the documented limit, and nothing else runs on a longer
 * string), then the text is normalised in place (NFC, trimmed) and checked.
 */
export function text({ max, min = 0, multiline = false, letter = false }: TextOptions) {
  const normalised = z
    .string()
    .max(max, { abort: true, error: `must be at most ${max} characters` })
    .overwrite(normaliseText);
  const sized =
    min > 0
      ? normalised.min(min, {
          abort: true,
          error: min === 1 ? 'must not be empty' : `must be at least ${min} characters`,
        })
      : normalised;
  return sized.check((payload) => {
    const value = payload.value;
    const problem =
      unusableCharacter(value, multiline) ??
      (letter && !hasLetter(value) ? 'must contain at least one letter' : undefined);
    if (problem !== undefined) payload.issues.push({ code: 'custom', message: problem, input: value });
  });
}
