/**
 * UK postcodes. Analytics and matching use the district (outward code, e.g. `LS6`), never the full postcode.
 * The pattern accepts the standard outward/inward shapes with or without the space.
 */
export const ukPostcodePattern = /^[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}$/i;

export function normalisePostcode(postcode: string): string {
  const compact = postcode.replace(/\s+/g, '').toUpperCase();
  return `${compact.slice(0, -3)} ${compact.slice(-3)}`;
}

/** The postcode district (outward code): `LS6 1AA` -> `LS6`. */
export function postcodeDistrict(postcode: string): string {
  return normalisePostcode(postcode).split(' ')[0] ?? '';
}
