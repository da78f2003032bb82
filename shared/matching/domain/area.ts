import type { Practice, Service } from '#directory/domain/directory.ts';
import type { Deprivation, ImdEdition, PostcodeLocation } from '#geography/domain/geography.ts';
import { lsoaFor, lsoaVintageOf } from '#geography/domain/lsoa.ts';
import { postcodeDistrict } from '#referral/domain/postcode.ts';
import type { AreaClassification, CoverageLevel } from '#referral/domain/referral.ts';

/**
 * Where a referral is matched, and how deprived that place is. The patient's postcode, found in the geography, gives
 * the LSOA (of the vintage the configured IMD edition is keyed on: 2011 for IMD 2019, 2021 for IMD 2025), the local
 * authority and the district; a postcode the geography does not know still gives its district; without a postcode
 * the practice's area is used. Pure: the use case looks the postcode and the LSOA up and hands the answers in.
 */

/** The LSOA to classify a location by for an edition, with the vintage its code is of. */
export function lsoaOf(
  location: PostcodeLocation,
  edition: ImdEdition,
): { code: string; vintage: '2011' | '2021' } | undefined {
  // lsoaFor takes the 2021 code for IMD 2019 when the file had no 2011 column (an unchanged LSOA keeps its code);
  // the vintage recorded is the column the code came from.
  const code = lsoaFor(location, edition);
  if (code === undefined) return undefined;
  const vintage = lsoaVintageOf(edition) === '2011' && location.lsoa11 !== undefined ? '2011' : '2021';
  return { code, vintage };
}

/** Only English LSOAs are ranked by the English IMD (other nations' indices are not comparable). */
export const rankedByEnglishImd = (lsoa: string): boolean => lsoa.startsWith('E01');

export interface AreaFacts {
  /** The patient's postcode, if the referral has one. */
  postcode: string | undefined;
  practice: Practice;
  /** The geography's answer for the postcode (undefined: not known, or no postcode). */
  location: PostcodeLocation | undefined;
  /** The geography's answer for the LSOA in `edition` (undefined: not ranked, or not looked up). */
  deprivation: Deprivation | undefined;
  edition: ImdEdition;
}

export function classifyArea(facts: AreaFacts): AreaClassification {
  const { postcode, practice, location, deprivation, edition } = facts;
  const keyedOn = { imdEdition: edition, lsoaVintage: lsoaVintageOf(edition) };
  if (postcode === undefined) {
    return { source: 'practice', postcodeStatus: 'none', district: practice.area, ...keyedOn, imd: null };
  }
  if (location === undefined) {
    return {
      source: 'patient-postcode',
      postcodeStatus: 'not-found',
      district: postcodeDistrict(postcode),
      ...keyedOn,
      imd: null,
    };
  }
  const lsoa = lsoaOf(location, edition);
  // Only a rank of this edition for this very LSOA: an answer for another edition or area is never used.
  const ranked =
    lsoa !== undefined && deprivation?.edition === edition && deprivation.lsoa === lsoa.code
      ? { edition, rank: deprivation.rank, decile: deprivation.decile }
      : null;
  return {
    source: 'patient-postcode',
    postcodeStatus: location.terminated ? 'terminated' : 'found',
    district: location.district,
    ...(lsoa ? { lsoa } : {}),
    ...(location.localAuthority ? { localAuthority: location.localAuthority } : {}),
    ...keyedOn,
    imd: ranked,
  };
}

/**
 * Every LSOA code to look coverage up under: the classification's (the IMD edition's vintage) and the postcode's
 * other vintage's when it differs, so a service listing 2021 codes covers a patient classified by a 2011 code.
 */
export function coverageLsoasOf(area: AreaClassification, location?: PostcodeLocation): string[] {
  if (!area.lsoa) return [];
  const codes = [area.lsoa.code];
  if (area.source === 'patient-postcode' && location)
    for (const code of [location.lsoa11, location.lsoa21])
      if (code && !codes.includes(code)) codes.push(code);
  return codes;
}

/**
 * The coverage index's keys for a classification: always the district, and the LSOAs (coverageLsoasOf) and local
 * authority if known.
 */
export function areaKeysOf(
  area: AreaClassification,
  lsoas: readonly string[] = area.lsoa ? [area.lsoa.code] : [],
): {
  district: string;
  lsoas?: readonly string[];
  localAuthority?: string;
} {
  return {
    district: area.district,
    ...(lsoas.length > 0 ? { lsoas } : {}),
    ...(area.localAuthority ? { localAuthority: area.localAuthority } : {}),
  };
}

/** The narrowest of a service's coverage that reaches the area; undefined if none does. */
export function coveredBy(
  service: Service,
  area: AreaClassification,
  /** Every LSOA code of the postcode (coverageLsoasOf); the classification's alone unless told. */
  lsoas: readonly string[] = area.lsoa ? [area.lsoa.code] : [],
): CoverageLevel | undefined {
  if (lsoas.some((code) => service.coverage.lsoas.includes(code))) return 'lsoa';
  if (service.coverage.districts.includes(area.district)) return 'district';
  if (area.localAuthority && service.coverage.localAuthorities.includes(area.localAuthority))
    return 'local-authority';
  return undefined;
}

/** How a coverage level reads in a sentence, e.g. "the patient's LSOA (E01011331)". */
export function coverageText(level: CoverageLevel, area: AreaClassification): string {
  switch (level) {
    case 'lsoa':
      return `the patient's LSOA (${area.lsoa?.code ?? '?'})`;
    case 'district':
      return `postcode district ${area.district}`;
    case 'local-authority':
      return `the local authority (${area.localAuthority ?? '?'})`;
  }
}

/** The area in a sentence: the district, with the LSOA and local authority when they were found. */
export function areaText(area: AreaClassification): string {
  const finer = [
    ...(area.lsoa ? [`LSOA ${area.lsoa.code}`] : []),
    ...(area.localAuthority ? [`local authority ${area.localAuthority}`] : []),
  ];
  return finer.length === 0 ? area.district : `${area.district} (${finer.join(', ')})`;
}
