import { createHash } from 'node:crypto';

/**
 * How our directory ids (slugs such as `arts-for-all`) and Open Referral UK ids (UUIDs) relate, in both directions
 * and deterministically, so that exporting twice gives the same file and importing an export gives the same records.
 *
 * - Export: every ORUK object gets the UUID derived from what it is (`orukUuid('service', 'svc-green-gym')`), unless
 *   the record keeps one of its own (a partner's `identifiers.orukId`). Our id travels in the
 *   `x_social_prescribing.id` extension.
 * - Import: our id is the extension's `id` when present; else it is derived from the name and the ORUK id
 *   (`derivedDirectoryId`): the name's slug, then the first 8 hex digits of the UUID, e.g. `green-gym-3f7b145d`.
 */

/** An RFC 9562 version 8 (custom) UUID from SHA-256 of the parts, as kernel/ids.ts shapes referral ids. */
export function orukUuid(...parts: string[]): string {
  const hex = createHash('sha256')
    .update(JSON.stringify(['social-prescribing', ...parts]))
    .digest('hex');
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Lower-case words joined by single hyphens, at most `max` characters, never ending in a hyphen. */
export function slugOf(name: string, max: number): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug.slice(0, max).replace(/-+$/, '');
}

/**
 * Our id for an ORUK record that does not carry one: `<slug of the name, at most 55 characters>-<first 8 hex digits
 * of its ORUK id>`. Stable while the feed keeps the record's id and name; unique while the 8 digits differ.
 */
export function derivedDirectoryId(name: string, orukId: string, fallback: string): string {
  const slug = slugOf(name, 55) || fallback;
  return `${slug}-${orukId.replace(/-/g, '').slice(0, 8).toLowerCase()}`;
}
