import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Partner, Service } from '#directory/domain/directory.ts';
import {
  exportOruk,
  importOruk,
  partnerDraftOf,
  serviceDraftOf,
  type ImportProblem,
  type OrukRecords,
  type PartnerDraft,
  type ServiceDraft,
} from '#directory/domain/oruk.ts';
import { readServiceArea } from '#directory/domain/oruk-areas.ts';
import { derivedDirectoryId, orukUuid, slugOf } from '#directory/domain/oruk-ids.ts';
import {
  categoryOfTerm,
  categoryTermUri,
  categoryTerms,
  normaliseTerm,
  taxonomyRows,
} from '#directory/domain/oruk-taxonomy.ts';
import { interventionCategories } from '#referral/domain/categories.ts';
import { readDirectory, sampleDirectoryFile } from '../../infra/local/seed.ts';

const read = (file: string): unknown =>
  JSON.parse(
    readFileSync(new URL(`../../events/${file}`, import.meta.url), 'utf8').replaceAll(
      '{{WEBHOOK_BASE}}',
      'http://127.0.0.1:3001',
    ),
  );

function records(file: unknown): OrukRecords {
  const result = importOruk(file);
  if (!result.ok) throw new Error(`expected the file to import: ${JSON.stringify(result.problems, null, 2)}`);
  return result.records;
}

function problems(file: unknown): ImportProblem[] {
  const result = importOruk(file);
  if (result.ok) throw new Error('expected problems, the file imported');
  return result.problems;
}

// The minimal valid ORUK 3.0 service of the reference (uk-profile service_full.json, trimmed), with its
// service area changed from a place name to a postcode district: a place name cannot be matched.
const organizationId = 'd9d5e0f5-d3ce-4f73-9a2f-4dd0ecc6c610';
function minimalService(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'ac148810-d857-441c-9679-408f346de14b',
    organization_id: organizationId,
    name: 'Community Counselling',
    description: 'Counselling for adults and young people.',
    status: 'active',
    minimum_age: 12,
    maximum_age: 100,
    assured_date: '2025-01-01',
    last_modified: '2025-03-15T10:30:45.123Z',
    organization: {
      id: organizationId,
      name: 'Example Organization Inc.',
      description: 'A registered charity.',
      website: 'http://example.com',
      organization_identifiers: [
        {
          id: 'd4dbcebc-0802-47cb-8651-b937ac4f2f3e',
          identifier_scheme: 'GB-COH',
          identifier_type: 'Company number',
          identifier: '1234567',
        },
      ],
      x_social_prescribing: { channel: { kind: 'webhook', url: 'https://partner.example/hooks' } },
    },
    service_areas: [{ id: '381c64f1-a724-4884-9c21-ac96c21cca3e', name: 'LS6', extent_type: 'text' }],
    contacts: [
      { id: '1e7efce3-639b-4880-940c-b95cd30cdb50', name: 'Ann Persona', title: 'Reception Manager' },
    ],
    attributes: [
      {
        id: 'ae58cc39-8b70-4ab1-8aea-786882e5ac8e',
        link_type: 'service_type',
        taxonomy_term: {
          id: '3f7b145d-84af-42d7-8fae-eaca714b02b2',
          name: 'Counselling',
          description: 'Counselling services',
          term_uri: 'http://example.com/term/1',
        },
      },
    ],
    ...overrides,
  };
}

const one = (service: Record<string, unknown>): { partner: PartnerDraft; service: ServiceDraft } => {
  const found = records([service]);
  const [partner] = found.partners;
  const [mapped] = found.services;
  if (!partner || !mapped) throw new Error('expected one partner and one service');
  return { partner: partner.partner, service: mapped.service };
};

describe('importOruk: a minimal ORUK 3.0 service', () => {
  it('maps the service and its organisation', () => {
    const { partner, service } = one(minimalService());
    expect(partner).toEqual({
      id: 'example-organization-inc-d9d5e0f5',
      name: 'Example Organization Inc.',
      identifiers: { companyNumber: '01234567', orukId: organizationId },
      channel: { kind: 'webhook', url: 'https://partner.example/hooks' },
      status: 'active',
    });
    expect(service).toEqual({
      id: 'community-counselling-ac148810',
      partnerId: partner.id,
      name: 'Community Counselling',
      description: 'Counselling for adults and young people.',
      categories: ['mental-health'],
      coverage: { districts: ['LS6'], lsoas: [], localAuthorities: [] },
      eligibility: { minimumAge: 12, maximumAge: 100 },
      capacity: { state: 'open' },
      acceptsSignposting: true,
      responseDays: 5,
      contact: { name: 'Ann Persona' },
      status: 'active',
    });
  });

  it("refuses the reference's own place-name area: a place name cannot be matched to a postcode", () => {
    const found = problems([
      minimalService({ service_areas: [{ id: 'x', name: 'MyCity', extent_type: 'text' }] }),
    ]);
    expect(found).toEqual([
      expect.objectContaining({
        path: '[0].service_areas[0].name',
        rule: expect.stringContaining('"MyCity"'),
      }),
    ]);
  });

  it('lists what only the extension can say and the file does not, for the import to keep from the directory', () => {
    const found = records([minimalService()]);
    expect(found.partners[0]?.unsaid).toEqual(['status']);
    expect(found.services[0]?.unsaid).toEqual([
      'acceptsSignposting',
      'responseDays',
      'capacityState',
      'weeklyLimit',
      'criteria',
      'contactPhone',
    ]);
    expect(records([minimalService({ status: 'temporarily closed' })]).services[0]?.unsaid).not.toContain(
      'capacityState',
    );
    const said = records([
      minimalService({
        x_social_prescribing: {
          accepts_signposting: true,
          response_days: 5,
          capacity: { state: 'open' },
          eligibility_criteria: 'Anyone.',
          contact_phone: '0113 496 0001',
        },
      }),
    ]);
    expect(said.services[0]?.unsaid).toEqual([]);
  });

  it('keeps a partner without a channel as a draft without one (the import decides whether it may)', () => {
    const service = minimalService();
    delete (service.organization as Record<string, unknown>).x_social_prescribing;
    expect(one(service).partner.channel).toBeUndefined();
  });

  it('reads null fields as absent, as feeds write them', () => {
    const { service } = one(
      minimalService({ minimum_age: null, maximum_age: null, description: null, email: null, url: null }),
    );
    expect(service.eligibility).toEqual({});
    expect(service.description).toBeUndefined();
  });
});

describe('importOruk: the envelope', () => {
  it('reads an array, an ORUK 3.0 page (contents) and an ORUK 1.0 page (content), with paths to match', () => {
    const bad = minimalService({ minimum_age: 'twelve' });
    expect(problems([bad])[0]?.path).toBe('[0].minimum_age');
    expect(problems({ contents: [bad] })[0]?.path).toBe('contents[0].minimum_age');
    expect(problems({ content: [minimalService(), bad] })[0]?.path).toBe('content[1].minimum_age');
    expect(records({ content: [minimalService()] }).services).toHaveLength(1);
  });

  it.each([
    ['a string', 'services', '(file)'],
    ['a page without contents', { items: [] }, 'contents'],
    ['contents that is not an array', { contents: {} }, 'contents'],
  ])('refuses %s', (_what, file, path) => {
    expect(problems(file)).toEqual([expect.objectContaining({ path })]);
  });
});

describe('importOruk: fields', () => {
  it.each([
    ['active', 'active', 'open'],
    ['inactive', 'retired', 'open'],
    ['defunct', 'retired', 'open'],
    ['temporarily closed', 'active', 'paused'],
    ['Temporarily Closed', 'active', 'paused'],
  ])('status %j -> %s, capacity %s', (status, ours, capacity) => {
    const { service } = one(minimalService({ status }));
    expect(service.status).toBe(ours);
    expect(service.capacity.state).toBe(capacity);
  });

  it('refuses an unknown status, or none', () => {
    expect(problems([minimalService({ status: 'closed' })])).toEqual([
      expect.objectContaining({ path: '[0].status', rule: expect.stringContaining('temporarily closed') }),
    ]);
    expect(problems([minimalService({ status: undefined })])).toEqual([
      expect.objectContaining({ path: '[0].status', rule: 'is required' }),
    ]);
  });

  it.each([
    [12, 12],
    ['12', 12],
    [' 40 ', 40],
    ['null', undefined],
    ['', undefined],
    [null, undefined],
  ])('reads the age %j as %j', (given, age) => {
    expect(
      one(minimalService({ minimum_age: given, maximum_age: undefined })).service.eligibility.minimumAge,
    ).toBe(age);
  });

  it.each([['twelve'], [12.5], [-1], [131], [true]])('refuses the age %j', (given) => {
    expect(problems([minimalService({ minimum_age: given })])).toEqual([
      expect.objectContaining({ path: '[0].minimum_age' }),
    ]);
  });

  it('refuses a service whose coverage is too large for the directory (categories x areas), at service_areas', () => {
    const service_areas = Array.from({ length: 1_001 }, (_, i) => ({
      id: `381c64f1-a724-4884-9c21-${String(i).padStart(12, '0')}`,
      name: `Area ${i}`,
      uri: `http://statistics.data.gov.uk/id/statistical-geography/E01${String(i).padStart(6, '0')}`,
    }));
    expect(problems([minimalService({ service_areas })])).toEqual([
      expect.objectContaining({ rule: expect.stringContaining('coverage entries') }),
    ]);
  });

  it('refuses a minimum age above the maximum, at maximum_age', () => {
    expect(problems([minimalService({ minimum_age: 65, maximum_age: 18 })])).toEqual([
      expect.objectContaining({ path: '[0].maximum_age', rule: expect.stringContaining('65 > 18') }),
    ]);
  });

  it('reads charity and company numbers by scheme, or by type when there is no scheme; notes the others', () => {
    const service = minimalService();
    (service.organization as Record<string, unknown>).organization_identifiers = [
      { id: 'a', identifier_scheme: 'gb-chc', identifier_type: 'Charity number', identifier: '1000001' },
      { id: 'b', identifier_type: 'Registered company number', identifier: 'SC 123456' },
      { id: 'c', identifier_scheme: 'GB-SC', identifier_type: 'Scottish charity', identifier: 'SC012345' },
    ];
    const found = records([service]);
    expect(found.partners[0]?.partner.identifiers).toEqual({
      charityNumber: '1000001',
      companyNumber: 'SC123456',
      orukId: organizationId,
    });
    expect(found.notes).toEqual([
      expect.objectContaining({ path: '[0].organization.organization_identifiers[2]' }),
    ]);
  });

  it('refuses a bad charity number at its path', () => {
    const service = minimalService();
    (service.organization as Record<string, unknown>).organization_identifiers = [
      { id: 'a', identifier_scheme: 'GB-CHC', identifier_type: 'Charity number', identifier: 'CH-12' },
    ];
    expect(problems([service])).toEqual([
      {
        path: '[0].organization.organization_identifiers[0].identifier',
        rule: 'a charity number: 6 to 8 digits',
        record: 'organisation "Example Organization Inc."',
      },
    ]);
  });

  it('maps the contact: contacts[0].name, the service email, and the phone from the extension', () => {
    const { service } = one(
      minimalService({
        email: 'hello@counselling.example',
        x_social_prescribing: { contact_phone: '0113 496 0001' },
      }),
    );
    expect(service.contact).toEqual({
      name: 'Ann Persona',
      email: 'hello@counselling.example',
      phone: '0113 496 0001',
    });
    expect(one(minimalService({ contacts: [] })).service.contact).toBeUndefined();
    expect(
      problems([minimalService({ contacts: [], x_social_prescribing: { contact_phone: '0113 496 0001' } })]),
    ).toEqual([expect.objectContaining({ path: '[0].x_social_prescribing.contact_phone' })]);
    expect(problems([minimalService({ email: 'not an email' })])).toEqual([
      expect.objectContaining({ path: '[0].email' }),
    ]);
  });

  it('reads the extension: our id, signposting, response days, capacity, criteria', () => {
    const { service } = one(
      minimalService({
        x_social_prescribing: {
          id: 'svc-counselling',
          accepts_signposting: false,
          response_days: 2,
          capacity: { state: 'full', weekly_limit: 10 },
          eligibility_criteria: 'Registered with a Leeds practice.',
        },
      }),
    );
    expect(service).toMatchObject({
      id: 'svc-counselling',
      acceptsSignposting: false,
      responseDays: 2,
      capacity: { state: 'full', weeklyLimit: 10 },
      eligibility: { minimumAge: 12, maximumAge: 100, criteria: 'Registered with a Leeds practice.' },
    });
  });

  it('refuses an unknown extension field, naming it', () => {
    expect(problems([minimalService({ x_social_prescribing: { response_time: 3 } })])).toEqual([
      expect.objectContaining({ path: '[0].x_social_prescribing.response_time' }),
    ]);
  });

  it('cuts a description longer than ours, with a note', () => {
    const found = records([minimalService({ description: 'word '.repeat(1_000) })]);
    expect(found.services[0]?.service.description).toHaveLength(2_000);
    expect(found.notes).toEqual([expect.objectContaining({ path: '[0].description' })]);
  });

  it('derives our id from the name and the ORUK id, and keeps the extension id when given', () => {
    expect(derivedDirectoryId('Arts & Crafts Café!', 'AC148810-d857-441c-9679-408f346de14b', 'service')).toBe(
      'arts-and-crafts-cafe-ac148810',
    );
    expect(derivedDirectoryId('!!!', 'ac148810-d857-441c-9679-408f346de14b', 'service')).toBe(
      'service-ac148810',
    );
    expect(slugOf('x'.repeat(80), 55)).toHaveLength(55);
    expect(one(minimalService({ x_social_prescribing: { id: 'counselling' } })).service.id).toBe(
      'counselling',
    );
  });
});

describe('importOruk: coverage', () => {
  it.each([
    [{ uri: 'http://data.ordnancesurvey.co.uk/id/postcodedistrict/LS6' }, 'district', 'LS6'],
    [{ uri: 'https://data.ordnancesurvey.co.uk/id/postcodedistrict/ls6/' }, 'district', 'LS6'],
    [{ uri: 'http://statistics.data.gov.uk/id/statistical-geography/E01011331' }, 'lsoa', 'E01011331'],
    [{ uri: 'http://statistics.data.gov.uk/id/statistical-geography/W01000001' }, 'lsoa', 'W01000001'],
    [
      { uri: 'http://statistics.data.gov.uk/id/statistical-geography/E08000035' },
      'localAuthority',
      'E08000035',
    ],
    [
      { uri: 'http://statistics.data.gov.uk/id/statistical-geography/E06000009' },
      'localAuthority',
      'E06000009',
    ],
    [{ name: 'ls2' }, 'district', 'LS2'],
    [{ service_area: 'TN34' }, 'district', 'TN34'],
  ])('reads %j as %s %s', (entry, level, code) => {
    expect(readServiceArea(entry)).toEqual({ ok: true, area: { level, code } });
  });

  it.each([
    [{ uri: 'http://statistics.data.gov.uk/id/statistical-geography/E02002330' }, 'uri', 'not an LSOA'],
    [{ uri: 'http://statistics.data.gov.uk/id/statistical-geography/E10000001' }, 'uri', 'not an LSOA'],
    [{ uri: 'http://data.ordnancesurvey.co.uk/id/postcodedistrict/LEEDS' }, 'uri', 'not a postcode district'],
    [{ uri: 'http://example.org/areas/leeds', name: 'LS6' }, 'uri', 'unknown area URI'],
    [{ name: 'Leeds city centre' }, 'name', '"Leeds city centre" is not a postcode district'],
    [{}, 'name', 'is missing'],
  ])('refuses %j at its %s', (entry, field, rule) => {
    expect(readServiceArea(entry)).toEqual({ ok: false, field, rule: expect.stringContaining(rule) });
  });

  it('sorts the areas of a service into districts, LSOAs and local authorities, once each', () => {
    const { service } = one(
      minimalService({
        service_areas: [
          { id: '1', name: 'LS6' },
          { id: '2', uri: 'http://statistics.data.gov.uk/id/statistical-geography/E01011331' },
          { id: '3', uri: 'http://statistics.data.gov.uk/id/statistical-geography/E08000035' },
          { id: '4', uri: 'http://data.ordnancesurvey.co.uk/id/postcodedistrict/LS6' },
        ],
      }),
    );
    expect(service.coverage).toEqual({
      districts: ['LS6'],
      lsoas: ['E01011331'],
      localAuthorities: ['E08000035'],
    });
  });

  it('refuses a service with no areas', () => {
    expect(problems([minimalService({ service_areas: [] })])).toEqual([
      expect.objectContaining({
        path: '[0].service_areas',
        rule: expect.stringContaining('at least one area'),
      }),
    ]);
  });
});

describe('the taxonomy table', () => {
  it.each([
    ['Arts and crafts', 'arts'],
    ['Arts & Crafts.', 'arts'],
    ['Debt advice', 'debt-advice'],
    ['DEBT ADVICE', 'debt-advice'],
    ['Welfare benefits advice', 'benefits-advice'],
    ['Counselling', 'mental-health'],
    ['Social inclusion', 'befriending'],
    ['Food banks', 'food'],
    ['Walking football', 'physical-activity'],
    ['Gardening', 'nature'],
    ['Employment support', 'employment-support'],
    ['Health coaching', 'health-coaching'],
    ['Housing', 'housing-advice'],
  ])('reads %j as %s', (name, category) => {
    expect(categoryOfTerm({ name })).toBe(category);
  });

  it('reads a term by its code or term when its name is in no row, and by our own term URI', () => {
    expect(categoryOfTerm({ name: 'Local list 17', code: 'befriending' })).toBe('befriending');
    expect(categoryOfTerm({ term: 'Exercise' })).toBe('physical-activity');
    expect(categoryOfTerm({ name: 'whatever', term_uri: categoryTermUri('food') })).toBe('food');
    expect(categoryOfTerm({ name: 'Bus pass applications' })).toBeUndefined();
    expect(
      categoryOfTerm({ term_uri: 'urn:x-social-prescribing:intervention-category:nonsense' }),
    ).toBeUndefined();
  });

  it('has, for every category, its own id and its export name as rows; no text names two categories', () => {
    const rows = taxonomyRows();
    for (const category of interventionCategories) {
      expect(categoryOfTerm({ name: category })).toBe(category);
      expect(categoryOfTerm({ name: categoryTerms[category].name })).toBe(category);
    }
    expect(new Set(rows.map(([text]) => text)).size).toBe(rows.length);
    expect(rows.every(([text]) => text === normaliseTerm(text))).toBe(true);
  });

  it('refuses a service none of whose terms maps, naming each term; ignores (with a note) one beside a term that maps', () => {
    const term = (name: string) => ({ id: name, taxonomy_term: { id: name, name, description: name } });
    expect(
      problems([minimalService({ attributes: [term('Bus pass applications'), term('Blue badges')] })]),
    ).toEqual([
      expect.objectContaining({ path: '[0].attributes[0].taxonomy_term.name' }),
      expect.objectContaining({ path: '[0].attributes[1].taxonomy_term.name' }),
    ]);
    const found = records([
      minimalService({ attributes: [term('Bus pass applications'), term('Debt advice')] }),
    ]);
    expect(found.services[0]?.service.categories).toEqual(['debt-advice']);
    expect(found.notes).toEqual([expect.objectContaining({ path: '[0].attributes[0].taxonomy_term.name' })]);
  });

  it('refuses a service with no terms at all', () => {
    expect(problems([minimalService({ attributes: [] })])).toEqual([
      expect.objectContaining({ path: '[0].attributes', rule: expect.stringContaining('is required') }),
    ]);
  });

  it('reads ORUK 1.0 service_taxonomys when a service has no attributes', () => {
    const { service } = one(
      minimalService({
        attributes: undefined,
        service_taxonomys: [{ id: '1', taxonomy: { name: 'Befriending' } }],
      }),
    );
    expect(service.categories).toEqual(['befriending']);
  });
});

describe('importOruk: across records', () => {
  const second = (overrides: Record<string, unknown> = {}) =>
    minimalService({
      id: 'bd2a3e62-5e3f-4b6c-9a1d-0d9e3c1f2a4b',
      name: 'Drop-in Counselling',
      organization: undefined,
      ...overrides,
    });

  it("finds a service's organisation nested in another service of the file", () => {
    const found = records([second(), minimalService()]);
    expect(found.partners).toHaveLength(1);
    expect(found.services.map((s) => s.service.partnerId)).toEqual([
      'example-organization-inc-d9d5e0f5',
      'example-organization-inc-d9d5e0f5',
    ]);
  });

  it('refuses a service with no organisation, or one the file does not give', () => {
    expect(problems([second({ organization_id: undefined })])).toEqual([
      expect.objectContaining({ path: '[0].organization', rule: expect.stringContaining('is required') }),
    ]);
    expect(problems([second()])).toEqual([
      expect.objectContaining({ path: '[0].organization_id', rule: expect.stringContaining(organizationId) }),
    ]);
  });

  it('refuses an organization_id that is not its nested organisation', () => {
    expect(problems([minimalService({ organization_id: 'bd2a3e62-5e3f-4b6c-9a1d-0d9e3c1f2a4b' })])).toEqual([
      expect.objectContaining({ path: '[0].organization_id' }),
    ]);
  });

  it('refuses duplicate ORUK ids and duplicate directory ids, at the later record', () => {
    expect(problems([minimalService(), minimalService()])).toEqual([
      expect.objectContaining({ path: '[1].id', rule: expect.stringContaining('also [0]') }),
    ]);
    expect(
      problems([
        minimalService({ x_social_prescribing: { id: 'same' } }),
        second({ x_social_prescribing: { id: 'same' } }),
      ]),
    ).toEqual([
      expect.objectContaining({
        path: '[1].x_social_prescribing.id',
        rule: expect.stringContaining('duplicate'),
      }),
    ]);
  });

  it('refuses an organisation that says different things in two places', () => {
    const renamed = minimalService({ id: 'bd2a3e62-5e3f-4b6c-9a1d-0d9e3c1f2a4b', name: 'Drop-in' });
    (renamed.organization as Record<string, unknown>).name = 'Renamed Inc.';
    expect(problems([minimalService(), renamed])).toEqual([
      expect.objectContaining({ path: '[1].organization', rule: expect.stringContaining('differs') }),
    ]);
  });

  it('refuses two organisations that would be the same partner', () => {
    const other = minimalService({ id: 'bd2a3e62-5e3f-4b6c-9a1d-0d9e3c1f2a4b', organization_id: undefined });
    const organization = other.organization as Record<string, unknown>;
    organization.id = 'c0ffee00-0000-4000-8000-000000000001';
    organization.x_social_prescribing = {
      id: 'example',
      channel: { kind: 'webhook', url: 'https://x.example/' },
    };
    const first = minimalService();
    (first.organization as Record<string, unknown>).x_social_prescribing = { id: 'example' };
    expect(problems([first, other])).toEqual([
      expect.objectContaining({
        path: '[1].organization.x_social_prescribing.id',
        rule: expect.stringContaining('duplicate'),
      }),
    ]);
  });

  it('reports a bad organisation once, not again for each service naming it', () => {
    const bad = minimalService();
    (bad.organization as Record<string, unknown>).name = '';
    expect(problems([bad, second()])).toEqual([expect.objectContaining({ path: '[0].organization.name' })]);
  });
});

describe('the sample files', () => {
  const sample = records(read('oruk/sample-services.json'));

  it('imports the sample: every partner and service of it', () => {
    expect(sample.partners).toHaveLength(11);
    expect(sample.services).toHaveLength(19);
    const kinds = sample.services.map((s) => s.service.coverage);
    expect(kinds.some((c) => c.districts.length > 0)).toBe(true);
    expect(kinds.some((c) => c.lsoas.length > 0)).toBe(true);
    expect(kinds.some((c) => c.localAuthorities.length > 0)).toBe(true);
  });

  it('says what events/directory.json says where they overlap (partners, charity numbers, services)', () => {
    const directory = readDirectory(sampleDirectoryFile, 'http://127.0.0.1:3001');
    const partners = new Map(sample.partners.map(({ partner }) => [partner.id, partner]));
    const services = new Map(sample.services.map(({ service }) => [service.id, service]));
    let overlap = 0;
    for (const partner of directory.partners) {
      const found = partners.get(partner.id);
      if (!found) continue;
      overlap++;
      expect(found, partner.id).toEqual(partnerDraftOf(partner));
    }
    for (const service of directory.services) {
      const found = services.get(service.id);
      if (!found) continue;
      overlap++;
      expect(found, service.id).toEqual(serviceDraftOf(service));
    }
    expect(overlap).toBeGreaterThan(10);
  });

  it('refuses the bad file, naming each bad record by its path and rule', () => {
    const found = problems(read('oruk/bad-services.json'));
    expect(found.map((p) => p.path)).toEqual([
      'contents[1].attributes[0].taxonomy_term.name',
      'contents[2].minimum_age',
      'contents[2].maximum_age',
      'contents[3].service_areas[0].uri',
      'contents[3].service_areas[1].name',
      'contents[3].service_areas[2].uri',
      'contents[4].organization',
      'contents[5].id',
      'contents[6].organization_id',
      'contents[7].organization.organization_identifiers[0].identifier',
      'contents[8].status',
      'contents[9].x_social_prescribing.response_time',
      'contents[10].x_social_prescribing.id',
      'contents[11].maximum_age',
    ]);
    expect(found.map((p) => p.rule)).toEqual([
      expect.stringContaining('maps to no intervention category'),
      expect.stringContaining('"eighteen"'),
      'an age from 0 to 130',
      expect.stringContaining('E02002330 is not an LSOA'),
      expect.stringContaining('is not a postcode district'),
      expect.stringContaining('unknown area URI'),
      expect.stringContaining('names no organisation'),
      expect.stringContaining('duplicate id'),
      expect.stringContaining('no organisation with id'),
      'a charity number: 6 to 8 digits',
      expect.stringContaining('one of: active'),
      expect.stringContaining('unknown: response_time'),
      expect.stringContaining('duplicate id'),
      expect.stringContaining('must not be below minimum_age'),
    ]);
  });
});

// --- Round trip -------------------------------------------------------------------------------------------------

const slug = fc.stringMatching(/^[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}$/);
const text = (max: number) =>
  fc
    .string({ minLength: 1, maxLength: max, unit: 'grapheme' })
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

// Arbitraries built once: building fc.stringMatching is far dearer than drawing from it.
const charityNumber = fc.stringMatching(/^\d{6,8}(-\d{1,2})?$/);
const companyNumber = fc.stringMatching(/^([0-9]{8}|[A-Z]{2}[0-9]{6})$/);
const district = fc.stringMatching(/^[A-Z]{1,2}\d[A-Z\d]?$/);
const lsoa = fc.stringMatching(/^[EW]01\d{6}$/);
const localAuthority = fc.stringMatching(/^(E0[6-9]|W06)\d{6}$/);
const emailLocal = fc.stringMatching(/^[a-z]{1,10}$/);
const phone = fc.stringMatching(/^\+?[0-9 ]{10,20}$/);
const name60 = text(60);
const description = text(300);
const criteria = text(200);

const partnerArbitrary = (id: string) =>
  fc.record({
    id: fc.constant(id),
    name: name60,
    identifiers: fc.record(
      {
        charityNumber,
        companyNumber,
        orukId: fc.uuid({ version: 4 }),
      },
      { requiredKeys: [] },
    ),
    channel: fc.record({
      kind: fc.constant('webhook' as const),
      url: fc.constant(`https://hooks.example/${id}`),
    }),
    status: fc.constantFrom('active' as const, 'retired' as const),
  });

const ages = fc
  .tuple(optional(fc.integer({ min: 0, max: 130 })), optional(fc.integer({ min: 0, max: 130 })))
  .map(([a, b]) => (a !== undefined && b !== undefined && a > b ? [b, a] : [a, b]));

const serviceArbitrary = (id: string, partnerIds: string[]) =>
  fc.record({
    id: fc.constant(id),
    partnerId: fc.constantFrom(...partnerIds),
    name: name60,
    description: optional(description),
    categories: fc.uniqueArray(fc.constantFrom(...interventionCategories), { minLength: 1, maxLength: 4 }),
    coverage: fc
      .record({
        districts: fc.uniqueArray(district, { maxLength: 3 }),
        lsoas: fc.uniqueArray(lsoa, { maxLength: 3 }),
        localAuthorities: fc.uniqueArray(localAuthority, { maxLength: 2 }),
      })
      .filter((c) => c.districts.length + c.lsoas.length + c.localAuthorities.length > 0),
    eligibility: fc
      .tuple(ages, optional(criteria))
      .map(([[minimumAge, maximumAge], criteria]) => ({ minimumAge, maximumAge, criteria })),
    capacity: fc.record({
      state: fc.constantFrom('open' as const, 'paused' as const, 'full' as const),
      weeklyLimit: optional(fc.integer({ min: 1, max: 100_000 })),
    }),
    acceptsSignposting: fc.boolean(),
    responseDays: fc.integer({ min: 1, max: 90 }),
    contact: optional(
      fc.record({
        name: name60,
        email: optional(emailLocal.map((local) => `${local}@partner.example`)),
        phone: optional(phone),
      }),
    ),
    status: fc.constantFrom('active' as const, 'retired' as const),
  });

const directoryArbitrary = fc
  .tuple(fc.uniqueArray(slug, { minLength: 1, maxLength: 4 }), fc.uniqueArray(slug, { maxLength: 6 }))
  .chain(([partnerIds, serviceIds]) =>
    fc.tuple(
      fc.tuple(...partnerIds.map(partnerArbitrary)),
      serviceIds.length === 0
        ? fc.constant([])
        : fc.tuple(...serviceIds.map((id) => serviceArbitrary(id, partnerIds))),
    ),
  )
  // Two partners with the same ORUK id of their own would be one organisation.
  .filter(([partners]) => {
    const ids = partners.flatMap((p) => (p.identifiers.orukId ? [p.identifiers.orukId] : []));
    return new Set(ids).size === ids.length;
  })
  .map(([partners, services]) => ({
    partners: partners.map((p) => partnerDraftOf(Partner.parse(p))),
    services: services.map((s) => serviceDraftOf(Service.parse(s))),
  }));

const byId = <T extends { id: string }>(items: T[]): T[] =>
  [...items].sort((a, b) => a.id.localeCompare(b.id));

describe('exportOruk', () => {
  it('round-trips: import(export(x)) is x, through the JSON text of a file', () => {
    fc.assert(
      fc.property(directoryArbitrary, ({ partners, services }) => {
        const file = JSON.parse(JSON.stringify(exportOruk(partners, services))) as unknown;
        const found = records(file);
        expect(byId(found.partners.map((p) => p.partner))).toEqual(byId(partners));
        expect(found.services.map((s) => s.service)).toEqual(services);
        expect(found.notes).toEqual([]);
      }),
      { numRuns: 300 },
    );
  }, 30_000);

  it('is deterministic, and writes ORUK ids (UUIDs) derived from ours', () => {
    const { partners, services } = {
      partners: [
        partnerDraftOf(
          Partner.parse({ id: 'p', name: 'P', channel: { kind: 'webhook', url: 'https://p.example' } }),
        ),
      ],
      services: [
        serviceDraftOf(
          Service.parse({
            id: 's',
            partnerId: 'p',
            name: 'S',
            categories: ['food'],
            coverage: { districts: ['LS6'] },
          }),
        ),
      ],
    };
    const page = exportOruk(partners, services) as { contents: Array<Record<string, unknown>> };
    expect(exportOruk(partners, services)).toEqual(page);
    expect(page.contents[0]).toMatchObject({
      id: orukUuid('service', 's'),
      organization_id: orukUuid('partner', 'p'),
      status: 'active',
      service_areas: [
        { name: 'LS6', extent_type: 'text', uri: 'http://data.ordnancesurvey.co.uk/id/postcodedistrict/LS6' },
      ],
      attributes: [
        {
          link_type: 'service_type',
          taxonomy_term: {
            name: 'Food support',
            term_uri: 'urn:x-social-prescribing:intervention-category:food',
          },
        },
      ],
    });
    // The derived organisation id is ours, not the partner's: import does not keep it as an orukId.
    expect(records(page).partners[0]?.partner.identifiers).toEqual({});
  });

  it('keeps partners with no service in the page extension', () => {
    const lonely = partnerDraftOf(
      Partner.parse({ id: 'lonely', name: 'Lonely', channel: { kind: 'webhook', url: 'https://l.example' } }),
    );
    const page = exportOruk([lonely], []);
    expect(page).toMatchObject({
      contents: [],
      empty: true,
      x_social_prescribing: { organizations: [{ name: 'Lonely' }] },
    });
    expect(records(page).partners.map((p) => p.partner)).toEqual([lonely]);
  });

  it('refuses a service whose partner is not given', () => {
    const service = serviceDraftOf(
      Service.parse({
        id: 's',
        partnerId: 'gone',
        name: 'S',
        categories: ['food'],
        coverage: { districts: ['LS6'] },
      }),
    );
    expect(() => exportOruk([], [service])).toThrow(/gone/);
  });
});
