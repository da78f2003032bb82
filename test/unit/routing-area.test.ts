import { describe, expect, it } from 'vitest';
import type { Practice } from '#directory/domain/directory.ts';
import type { PostcodeLocation } from '#geography/domain/geography.ts';
import { areaKeysOf, areaText, classifyArea, lsoaOf } from '#matching/domain/area.ts';

const practice: Practice = { ods: 'A81001', name: 'Woodhouse Medical Practice', pcn: 'U00001', area: 'LS6' };

/** A postcode whose LSOA was split in 2021: different 2011 and 2021 codes. */
const split: PostcodeLocation = {
  postcode: 'LS2 9JT',
  district: 'LS2',
  lsoa11: 'E01011365',
  lsoa21: 'E01033015',
  localAuthority: 'E08000035',
  country: 'E92000001',
  terminated: false,
};

describe('classifyArea', () => {
  it('no postcode: the practice area, nothing looked up, the edition and vintage still recorded', () => {
    expect(
      classifyArea({
        postcode: undefined,
        practice,
        location: undefined,
        deprivation: undefined,
        edition: '2019',
      }),
    ).toEqual({
      source: 'practice',
      postcodeStatus: 'none',
      district: 'LS6',
      imdEdition: '2019',
      lsoaVintage: '2011',
      imd: null,
    });
  });

  it("a postcode the geography does not know: its own district, not the practice's", () => {
    expect(
      classifyArea({
        postcode: 'FY1 9ZZ',
        practice,
        location: undefined,
        deprivation: undefined,
        edition: '2025',
      }),
    ).toEqual({
      source: 'patient-postcode',
      postcodeStatus: 'not-found',
      district: 'FY1',
      imdEdition: '2025',
      lsoaVintage: '2021',
      imd: null,
    });
  });

  it('IMD 2019: the 2011 LSOA and its 2019 decile', () => {
    const area = classifyArea({
      postcode: 'LS2 9JT',
      practice,
      location: split,
      deprivation: { edition: '2019', lsoa: 'E01011365', rank: 1200, decile: 1 },
      edition: '2019',
    });
    expect(area).toEqual({
      source: 'patient-postcode',
      postcodeStatus: 'found',
      district: 'LS2',
      lsoa: { code: 'E01011365', vintage: '2011' },
      localAuthority: 'E08000035',
      imdEdition: '2019',
      lsoaVintage: '2011',
      imd: { edition: '2019', rank: 1200, decile: 1 },
    });
    expect(areaKeysOf(area)).toEqual({ district: 'LS2', lsoas: ['E01011365'], localAuthority: 'E08000035' });
    expect(areaText(area)).toBe('LS2 (LSOA E01011365, local authority E08000035)');
  });

  it('IMD 2025: the 2021 LSOA and its 2025 decile', () => {
    const area = classifyArea({
      postcode: 'LS2 9JT',
      practice,
      location: split,
      deprivation: { edition: '2025', lsoa: 'E01033015', rank: 3000, decile: 1 },
      edition: '2025',
    });
    expect(area.lsoa).toEqual({ code: 'E01033015', vintage: '2021' });
    expect(area.imd).toEqual({ edition: '2025', rank: 3000, decile: 1 });
  });

  it('never takes a rank of another edition or another LSOA', () => {
    const wrongEdition = classifyArea({
      postcode: 'LS2 9JT',
      practice,
      location: split,
      deprivation: { edition: '2025', lsoa: 'E01011365', rank: 3000, decile: 1 },
      edition: '2019',
    });
    expect(wrongEdition.imd).toBeNull();
    const wrongLsoa = classifyArea({
      postcode: 'LS2 9JT',
      practice,
      location: split,
      deprivation: { edition: '2019', lsoa: 'E01033015', rank: 3000, decile: 1 },
      edition: '2019',
    });
    expect(wrongLsoa.imd).toBeNull();
  });

  it('a terminated postcode still classifies, marked terminated', () => {
    const area = classifyArea({
      postcode: 'LS2 9JT',
      practice,
      location: { ...split, terminated: true, terminatedOn: '202001' },
      deprivation: undefined,
      edition: '2019',
    });
    expect(area).toMatchObject({
      postcodeStatus: 'terminated',
      district: 'LS2',
      lsoa: { code: 'E01011365', vintage: '2011' },
    });
  });

  it('IMD 2019 from a file with 2021 LSOAs only: the 2021 code, recorded as 2021', () => {
    const { lsoa11: _dropped, ...nspl } = split;
    expect(lsoaOf(nspl, '2019')).toEqual({ code: 'E01033015', vintage: '2021' });
    expect(lsoaOf(nspl, '2025')).toEqual({ code: 'E01033015', vintage: '2021' });
  });

  it('a Welsh postcode: its LSOA, no English decile', () => {
    const area = classifyArea({
      postcode: 'CF10 1AA',
      practice,
      location: {
        postcode: 'CF10 1AA',
        district: 'CF10',
        lsoa11: 'W01001899',
        localAuthority: 'W06000015',
        country: 'W92000004',
        terminated: false,
      },
      deprivation: undefined,
      edition: '2019',
    });
    expect(area).toMatchObject({ lsoa: { code: 'W01001899', vintage: '2011' }, imd: null });
  });
});
