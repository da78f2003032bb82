import type { ImdEdition, LsoaVintage, PostcodeLocation } from '#geography/domain/geography.ts';

// Which LSOA an edition is looked up by, on its own (geography.ts re-exports it): matching takes locations already
// parsed, and importing these from here keeps the geography's schemas out of its cold start.

/** Which LSOAs an IMD edition is keyed on: IMD 2019 on the 2011 LSOAs, IMD 2025 on the 2021 LSOAs. */
export function lsoaVintageOf(edition: ImdEdition): LsoaVintage {
  return edition === '2019' ? '2011' : '2021';
}

/**
 * The LSOA to look an edition up by: the 2011 LSOA for IMD 2019, the 2021 LSOA for IMD 2025. The NSPL (2021
 * edition) has no 2011 column, so for IMD 2019 the 2021 code is used when it is all there is: ONS kept the code of
 * every LSOA whose boundary did not change and gave split or merged ones new codes, so a 2021 code found in IMD
 * 2019 is the same area, and a new one is simply not found.
 */
export function lsoaFor(location: PostcodeLocation, edition: ImdEdition): string | undefined {
  return lsoaVintageOf(edition) === '2011' ? (location.lsoa11 ?? location.lsoa21) : location.lsoa21;
}
