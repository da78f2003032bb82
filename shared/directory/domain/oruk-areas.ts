import { LocalAuthorityCode, LsoaCode, PostcodeDistrict } from '#directory/domain/directory.ts';

/**
 * Where a service is offered, as ORUK `service_areas` entries. ORUK has no codes of its own for areas, so each entry
 * names its area by a URI (docs/directory.md):
 *   postcode district   uri http://data.ordnancesurvey.co.uk/id/postcodedistrict/LS6     name LS6
 *   LSOA                uri http://statistics.data.gov.uk/id/statistical-geography/E01011331
 *   local authority     uri http://statistics.data.gov.uk/id/statistical-geography/E08000035
 * (Ordnance Survey's and ONS's linked-data identifiers; `https` is read too.) An entry without a `uri` is read as a
 * postcode district when its `name` (or v1 `service_area`) is one, such as `LS6`; anything else is a bad record,
 * because a place name such as "MyCity" cannot be matched against a patient's postcode.
 */

export type AreaLevel = 'district' | 'lsoa' | 'localAuthority';
export interface Area {
  level: AreaLevel;
  code: string;
}

export const districtUriPrefix = 'http://data.ordnancesurvey.co.uk/id/postcodedistrict/';
export const statisticalGeographyUriPrefix = 'http://statistics.data.gov.uk/id/statistical-geography/';

export function areaUri(area: Area): string {
  return area.level === 'district'
    ? `${districtUriPrefix}${area.code}`
    : `${statisticalGeographyUriPrefix}${area.code}`;
}

const districtUri = /^https?:\/\/data\.ordnancesurvey\.co\.uk\/id\/postcodedistrict\/([^/?#]+)\/?$/i;
const geographyUri = /^https?:\/\/statistics\.data\.gov\.uk\/id\/statistical-geography\/([^/?#]+)\/?$/i;

export type AreaReading = { ok: true; area: Area } | { ok: false; field: 'uri' | 'name'; rule: string };

/** Reads one `service_areas` entry. */
export function readServiceArea(entry: {
  uri?: string | undefined;
  name?: string | undefined;
  service_area?: string | undefined;
}): AreaReading {
  const uri = entry.uri?.trim();
  if (uri) {
    const district = districtUri.exec(uri)?.[1]?.toUpperCase();
    if (district !== undefined) {
      return PostcodeDistrict.safeParse(district).success
        ? { ok: true, area: { level: 'district', code: district } }
        : { ok: false, field: 'uri', rule: `"${district}" is not a postcode district such as LS6` };
    }
    const code = geographyUri.exec(uri)?.[1]?.toUpperCase();
    if (code !== undefined) {
      if (LsoaCode.safeParse(code).success) return { ok: true, area: { level: 'lsoa', code } };
      if (LocalAuthorityCode.safeParse(code).success)
        return { ok: true, area: { level: 'localAuthority', code } };
      return {
        ok: false,
        field: 'uri',
        rule: `${code} is not an LSOA (E01/W01...) or a local authority district (E06-E09/W06...)`,
      };
    }
    return {
      ok: false,
      field: 'uri',
      rule: `unknown area URI "${uri.slice(0, 120)}": expected ${districtUriPrefix}<district> or ${statisticalGeographyUriPrefix}<LSOA or local authority code>`,
    };
  }
  const name = (entry.name ?? entry.service_area)?.trim();
  if (name !== undefined && PostcodeDistrict.safeParse(name.toUpperCase()).success)
    return { ok: true, area: { level: 'district', code: name.toUpperCase() } };
  return {
    ok: false,
    field: 'name',
    rule: `the area has no uri and its name ${name === undefined ? 'is missing' : `"${name.slice(0, 60)}"`} is not a postcode district: give a uri (${districtUriPrefix}LS6, ${statisticalGeographyUriPrefix}<LSOA or local authority code>)`,
  };
}
