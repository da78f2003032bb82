import * as z from 'zod';
import { canonicalJson } from '#kernel/ids.ts';
import type { InterventionCategory } from '#referral/domain/categories.ts';
import {
  CapacityState,
  DirectoryId,
  type Partner,
  PartnerIdentifiers,
  RecordStatus,
  Service,
  ServiceContact,
  RecipientChannel,
  type Coverage,
} from '#directory/domain/directory.ts';
import { areaUri, readServiceArea, type Area } from '#directory/domain/oruk-areas.ts';
import { derivedDirectoryId, orukUuid } from '#directory/domain/oruk-ids.ts';
import {
  categoryOfTerm,
  categoryTaxonomy,
  categoryTermUri,
  categoryTerms,
} from '#directory/domain/oruk-taxonomy.ts';

/**
 * Open Referral UK 3.0 services <-> our partners and services (docs/directory.md has the whole mapping).
 *
 * A file is a JSON array of ORUK services, or a page of them (`{ "contents": [...] }`; ORUK 1.0 feeds write
 * `content`), each with its `organization` nested (or named by `organization_id` when nested in another service of
 * the file). `importOruk` reads the whole file and answers either every record it found or every problem, each with
 * its JSON path (`contents[3].service_areas[0].uri`) and the rule broken: nothing is half-read. `exportOruk` writes
 * a page; `importOruk(exportOruk(x))` gives back `x` (versions and response records aside: the store keeps those).
 *
 * Read leniently where feeds are known to be loose (ages as numeric strings or "null", nulls for absent fields,
 * company numbers without their leading zeros, status in any case), strictly where we need the value (ids, names,
 * status, areas, taxonomy terms). What ORUK has no field for is in `x_social_prescribing` on the service, the
 * organisation and the page (HSDS allows extra properties).
 */

export interface ImportProblem {
  /** Where in the file: a JSON path such as `contents[3].service_areas[0].uri`. */
  path: string;
  rule: string;
  /** Which record, for a reader: `service "Green Gym Volunteering"`. */
  record?: string;
}

/** A partner as a file gives it: no version or response record (the store keeps those), maybe no channel. */
export type PartnerDraft = Omit<Partner, 'version' | 'responseRecord' | 'channel'> & {
  channel?: RecipientChannel;
};
export type ServiceDraft = Omit<Service, 'version'>;

/**
 * Fields only our extension can give. When a file does not give one (a feed that knows nothing of the extension),
 * the draft holds the model's default and the field is listed as unsaid: an import keeps the directory's value for
 * a record it already has, so a council's feed does not reset what was set here (a channel, a pause, a weekly
 * limit).
 */
export type UnsaidPartnerField = 'channel' | 'status';
export type UnsaidServiceField =
  'acceptsSignposting' | 'responseDays' | 'capacityState' | 'weeklyLimit' | 'criteria' | 'contactPhone';

export interface OrukRecords {
  /** Each partner once, in the order the file first names it; `path` is where (for problems found later). */
  partners: Array<{ partner: PartnerDraft; path: string; unsaid: UnsaidPartnerField[] }>;
  services: Array<{ service: ServiceDraft; path: string; unsaid: UnsaidServiceField[] }>;
  /** What was read but not kept (taxonomy terms of no category beside one that maps, other identifier schemes). */
  notes: ImportProblem[];
}

export type OrukImport = { ok: true; records: OrukRecords } | { ok: false; problems: ImportProblem[] };

// ---------------------------------------------------------------------------------------------------------------
// What we accept
// ---------------------------------------------------------------------------------------------------------------

const orukId = z.uuid('an ORUK id: a UUID such as ac148810-d857-441c-9679-408f346de14b');
const name = z.string().trim().min(1, 'must not be empty').max(200, 'at most 200 characters');
const looseText = z.string().max(100_000).optional();

/** Ages: numbers, numeric strings, or nothing (`null`, `""`, `"null"`). */
const age = z.preprocess(
  (value) => {
    if (typeof value !== 'string') return value;
    const text = value.trim();
    if (text === '' || text.toLowerCase() === 'null') return undefined;
    return /^\d+(\.\d+)?$/.test(text) ? Number(text) : value;
  },
  z
    .number({ error: 'an age in years: a number or a numeric string' })
    .int('an age in whole years')
    .min(0, 'an age from 0 to 130')
    .max(130, 'an age from 0 to 130')
    .optional(),
);

export const orukStatuses = ['active', 'inactive', 'defunct', 'temporarily closed'] as const;
const status = z.preprocess(
  (value) => (typeof value === 'string' ? value.trim().toLowerCase().replace(/\s+/g, ' ') : value),
  z.enum(orukStatuses, { error: `one of: ${orukStatuses.join(', ')}` }),
);

/** Our extension on an organisation: what a partner is in our directory beyond ORUK. */
export const OrganizationExtension = z.strictObject({
  /** Our id for the partner (else derived from its name and ORUK id). */
  id: DirectoryId.optional(),
  /** How referrals reach it (webhook, email or worklist); required for a partner not yet in the directory. */
  channel: RecipientChannel.optional(),
  /** `retired`: takes no new referrals (ORUK organisations have no status). */
  status: RecordStatus.optional(),
});

/** Our extension on a service: what matching and delivery need that ORUK 3.0 has no field for. */
export const ServiceExtension = z.strictObject({
  id: DirectoryId.optional(),
  accepts_signposting: z.boolean().optional(),
  response_days: z.number().int().min(1).max(90).optional(),
  capacity: z
    .strictObject({ state: CapacityState, weekly_limit: z.number().int().min(1).max(100_000).optional() })
    .optional(),
  /** ORUK 3.0 removed `eligibility_description`; criteria a link worker reads. */
  eligibility_criteria: z.string().trim().min(1).max(2_000).optional(),
  /** ORUK 3.0 has no phone numbers anywhere in a service: the contact's phone. */
  contact_phone: ServiceContact.shape.phone,
});

const OrganizationIdentifier = z.looseObject({
  id: looseText,
  identifier_scheme: looseText,
  identifier_type: looseText,
  identifier: z.string().trim().min(1, 'must not be empty').max(100),
});

const OrukOrganization = z.looseObject({
  id: orukId,
  name,
  description: looseText,
  organization_identifiers: z.array(OrganizationIdentifier).max(50).optional(),
  x_social_prescribing: OrganizationExtension.optional(),
});
type OrukOrganization = z.infer<typeof OrukOrganization>;

const TaxonomyTerm = z.looseObject({
  id: looseText,
  name: looseText,
  term: looseText,
  code: looseText,
  term_uri: looseText,
  taxonomy: looseText,
  description: looseText,
});

const OrukService = z.looseObject({
  id: orukId,
  organization_id: orukId.optional(),
  name,
  description: looseText,
  email: looseText,
  status,
  minimum_age: age,
  maximum_age: age,
  /** Read on its own (OrukOrganization), so that its problems are reported once. */
  organization: z.unknown().optional(),
  service_areas: z
    .array(
      z.looseObject({
        id: looseText,
        name: looseText,
        service_area: looseText,
        uri: looseText,
        extent: looseText,
        extent_type: looseText,
      }),
    )
    .max(6_000)
    .optional(),
  contacts: z.array(z.looseObject({ id: looseText, name: looseText, title: looseText })).optional(),
  attributes: z
    .array(z.looseObject({ id: looseText, link_type: looseText, taxonomy_term: TaxonomyTerm.optional() }))
    .max(200)
    .optional(),
  /** ORUK 1.0's taxonomy links, read when a service has no `attributes`. */
  service_taxonomys: z
    .array(z.looseObject({ taxonomy: z.looseObject({ name: looseText, vocabulary: looseText }).optional() }))
    .max(200)
    .optional(),
  x_social_prescribing: ServiceExtension.optional(),
});
type OrukService = z.infer<typeof OrukService>;

const PageExtension = z.strictObject({
  /** Partners with no service in the file (export writes them here, so that none is lost). */
  organizations: z.array(z.unknown()).max(100_000).optional(),
});

// ---------------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------------

/** Feeds write `null` for absent fields, which ORUK asks them to omit: read a null property as absent. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => item !== null)
      .map(([key, item]) => [key, withoutNulls(item)]),
  );
}

/** `contents[3]` + ['service_areas', 0, 'uri'] -> `contents[3].service_areas[0].uri`. */
export function pathOf(base: string, path: readonly PropertyKey[] = []): string {
  let text = base;
  for (const key of path) {
    if (typeof key === 'number') text += `[${key}]`;
    else {
      const part = String(key);
      text += /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(part)
        ? `${text ? '.' : ''}${part}`
        : `[${JSON.stringify(part)}]`;
    }
  }
  return text || '(file)';
}

function ruleOf(issue: z.core.$ZodIssue, input: unknown): string {
  let value = input;
  for (const key of issue.path) {
    value =
      value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  }
  if (value === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_value'))
    return 'is required';
  switch (issue.code) {
    case 'invalid_type': {
      const rule = issue.message.startsWith('Invalid input')
        ? `must be ${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`
        : issue.message;
      return `${rule} (not ${JSON.stringify(value)?.slice(0, 40) ?? typeof value})`;
    }
    case 'unrecognized_keys':
      return `is not a field of our extension (unknown: ${issue.keys.slice(0, 10).join(', ')})`;
    default:
      return issue.message;
  }
}

function zodProblems(error: z.ZodError, base: string, input: unknown, record?: string): ImportProblem[] {
  return error.issues.map((issue) => {
    // An unknown key is reported at the key itself.
    const path =
      issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined
        ? [...issue.path, issue.keys[0]]
        : issue.path;
    return { path: pathOf(base, path), rule: ruleOf(issue, input), ...(record ? { record } : {}) };
  });
}

interface Envelope {
  base: (index: number) => string;
  items: unknown[];
  organizations: unknown[];
}

function envelopeOf(file: unknown, problems: ImportProblem[]): Envelope | undefined {
  if (Array.isArray(file)) return { base: (i) => `[${i}]`, items: file, organizations: [] };
  if (file === null || typeof file !== 'object') {
    problems.push({
      path: '(file)',
      rule: 'must be a JSON array of ORUK services, or a page { "contents": [...] }',
    });
    return undefined;
  }
  const page = file as Record<string, unknown>;
  const key = 'contents' in page ? 'contents' : 'content' in page ? 'content' : undefined;
  const items = key === undefined ? undefined : page[key];
  if (key === undefined || !Array.isArray(items)) {
    problems.push({
      path: key ?? 'contents',
      rule: 'a page holds its services in an array "contents" (ORUK 3.0) or "content" (ORUK 1.0)',
    });
    return undefined;
  }
  const extension = PageExtension.safeParse(page.x_social_prescribing ?? {});
  if (!extension.success) {
    problems.push(...zodProblems(extension.error, 'x_social_prescribing', page.x_social_prescribing));
    return undefined;
  }
  return { base: (i) => `${key}[${i}]`, items, organizations: extension.data.organizations ?? [] };
}

interface OrganizationSeen {
  partner: PartnerDraft;
  unsaid: UnsaidPartnerField[];
  /** Where the organisation is first given in full. */
  path: string;
  fingerprint: string;
}

const charitySchemes = new Set(['GB-CHC']);
const companySchemes = new Set(['GB-COH']);

/** Companies House numbers are 8 characters; feeds often drop the leading zeros of the numeric ones. */
function companyNumberOf(text: string): string {
  const compact = text.replace(/\s+/g, '').toUpperCase();
  return /^\d{1,7}$/.test(compact) ? compact.padStart(8, '0') : compact;
}

function partnerOf(
  org: OrukOrganization,
  path: string,
  problems: ImportProblem[],
  notes: ImportProblem[],
): PartnerDraft | undefined {
  const extension = org.x_social_prescribing;
  const id = extension?.id ?? derivedDirectoryId(org.name, org.id, 'partner');
  const record = `organisation "${org.name}"`;
  const before = problems.length;
  const identifiers: PartnerIdentifiers = {};
  for (const [k, identifier] of (org.organization_identifiers ?? []).entries()) {
    const scheme = identifier.identifier_scheme?.trim().toUpperCase();
    const type = identifier.identifier_type ?? '';
    const at = pathOf(path, ['organization_identifiers', k, 'identifier']);
    const field =
      scheme !== undefined && scheme !== ''
        ? charitySchemes.has(scheme)
          ? 'charityNumber'
          : companySchemes.has(scheme)
            ? 'companyNumber'
            : undefined
        : /charit/i.test(type)
          ? 'charityNumber'
          : /compan/i.test(type)
            ? 'companyNumber'
            : undefined;
    if (field === undefined) {
      notes.push({
        path: pathOf(path, ['organization_identifiers', k]),
        rule: `identifier scheme ${scheme || `"${type}"`} is not kept (only GB-CHC charity and GB-COH company numbers are)`,
        record,
      });
      continue;
    }
    const value =
      field === 'companyNumber' ? companyNumberOf(identifier.identifier) : identifier.identifier.trim();
    if (identifiers[field] !== undefined && identifiers[field] !== value) {
      problems.push({
        path: at,
        rule: `a second, different ${field === 'charityNumber' ? 'charity' : 'company'} number`,
        record,
      });
      continue;
    }
    const checked = PartnerIdentifiers.shape[field].safeParse(value);
    if (!checked.success) {
      problems.push({ path: at, rule: checked.error.issues[0]?.message ?? 'not a valid number', record });
      continue;
    }
    identifiers[field] = value;
  }
  // The id export gives a partner without an ORUK id of its own is ours, not the partner's: not kept as orukId.
  if (org.id !== orukUuid('partner', id)) identifiers.orukId = org.id;
  if (problems.length > before) return undefined;
  return {
    id,
    name: org.name,
    identifiers,
    ...(extension?.channel ? { channel: extension.channel } : {}),
    status: extension?.status ?? 'active',
  };
}

function categoriesOf(
  service: OrukService,
  base: string,
  record: string,
  problems: ImportProblem[],
  notes: ImportProblem[],
): InterventionCategory[] {
  const terms: Array<{ path: string; text: string; category: InterventionCategory | undefined }> = [];
  for (const [k, attribute] of (service.attributes ?? []).entries()) {
    const term = attribute.taxonomy_term;
    const text = term?.name ?? term?.term ?? term?.code ?? term?.term_uri;
    terms.push({
      path: pathOf(base, ['attributes', k, 'taxonomy_term', ...(term?.name ? ['name'] : [])]),
      text: text === undefined ? '(a term without a name)' : `"${text.slice(0, 80)}"`,
      category: term ? categoryOfTerm(term) : undefined,
    });
  }
  if (terms.length === 0) {
    for (const [k, link] of (service.service_taxonomys ?? []).entries()) {
      const text = link.taxonomy?.name;
      terms.push({
        path: pathOf(base, ['service_taxonomys', k, 'taxonomy', 'name']),
        text: text === undefined ? '(a term without a name)' : `"${text.slice(0, 80)}"`,
        category: text === undefined ? undefined : categoryOfTerm({ name: text }),
      });
    }
  }
  if (terms.length === 0) {
    problems.push({
      path: pathOf(base, ['attributes']),
      rule: 'is required: at least one taxonomy term naming what the service offers (an intervention category; docs/directory.md)',
      record,
    });
    return [];
  }
  const categories = [...new Set(terms.flatMap((t) => (t.category ? [t.category] : [])))];
  for (const term of terms.filter((t) => t.category === undefined)) {
    (categories.length === 0 ? problems : notes).push({
      path: term.path,
      rule:
        categories.length === 0
          ? `${term.text} maps to no intervention category, and no other term of the service does (the table is in docs/directory.md)`
          : `${term.text} maps to no intervention category (ignored: another term does)`,
      record,
    });
  }
  return categories;
}

function coverageOf(service: OrukService, base: string, record: string, problems: ImportProblem[]): Coverage {
  const coverage: Coverage = { districts: [], lsoas: [], localAuthorities: [] };
  const entries = service.service_areas ?? [];
  if (entries.length === 0) {
    problems.push({
      path: pathOf(base, ['service_areas']),
      rule: 'is required: at least one area (a postcode district, LSOA or local authority) the service covers',
      record,
    });
  }
  const lists: Record<Area['level'], string[]> = {
    district: coverage.districts,
    lsoa: coverage.lsoas,
    localAuthority: coverage.localAuthorities,
  };
  for (const [k, entry] of entries.entries()) {
    const reading = readServiceArea(entry);
    if (!reading.ok) {
      problems.push({ path: pathOf(base, ['service_areas', k, reading.field]), rule: reading.rule, record });
      continue;
    }
    const list = lists[reading.area.level];
    if (!list.includes(reading.area.code)) list.push(reading.area.code);
  }
  return coverage;
}

/** Our description is at most 2,000 characters; a longer ORUK one is cut (with a note), not refused. */
function descriptionOf(
  text: string | undefined,
  at: string,
  record: string,
  notes: ImportProblem[],
): string | undefined {
  const trimmed = text?.trim();
  if (!trimmed) return undefined;
  if (trimmed.length <= 2_000) return trimmed;
  notes.push({ path: at, rule: `cut to 2,000 characters (was ${trimmed.length})`, record });
  return `${trimmed.slice(0, 1_999).trimEnd()}…`;
}

/** Where a problem the model finds on a mapped service is in the ORUK file. */
const servicePaths: Record<string, readonly PropertyKey[]> = {
  id: ['x_social_prescribing', 'id'],
  partnerId: ['organization_id'],
  name: ['name'],
  description: ['description'],
  categories: ['attributes'],
  coverage: ['service_areas'],
  eligibility: [],
  capacity: ['x_social_prescribing', 'capacity'],
  acceptsSignposting: ['x_social_prescribing', 'accepts_signposting'],
  responseDays: ['x_social_prescribing', 'response_days'],
  contact: ['contacts', 0],
  status: ['status'],
};
const eligibilityPaths: Record<string, readonly PropertyKey[]> = {
  minimumAge: ['minimum_age'],
  maximumAge: ['maximum_age'],
  criteria: ['x_social_prescribing', 'eligibility_criteria'],
};
const contactPaths: Record<string, readonly PropertyKey[]> = {
  name: ['contacts', 0, 'name'],
  email: ['email'],
  phone: ['x_social_prescribing', 'contact_phone'],
};

function servicePathOf(path: readonly PropertyKey[]): readonly PropertyKey[] {
  const [first, second] = path;
  if (first === 'eligibility' && typeof second === 'string') return eligibilityPaths[second] ?? [];
  if (first === 'contact' && typeof second === 'string') return contactPaths[second] ?? ['contacts', 0];
  return servicePaths[String(first)] ?? [];
}

function serviceOf(
  service: OrukService,
  base: string,
  partnerId: string,
  problems: ImportProblem[],
  notes: ImportProblem[],
): ServiceDraft | undefined {
  const record = `service "${service.name}"`;
  const before = problems.length;
  const extension = service.x_social_prescribing;
  const categories = categoriesOf(service, base, record, problems, notes);
  const coverage = coverageOf(service, base, record, problems);
  if (
    service.minimum_age !== undefined &&
    service.maximum_age !== undefined &&
    service.minimum_age > service.maximum_age
  ) {
    problems.push({
      path: pathOf(base, ['maximum_age']),
      rule: `must not be below minimum_age (${service.minimum_age} > ${service.maximum_age})`,
      record,
    });
  }
  const contactName = service.contacts?.[0]?.name?.trim();
  if (!contactName && extension?.contact_phone !== undefined) {
    problems.push({
      path: pathOf(base, ['x_social_prescribing', 'contact_phone']),
      rule: 'a contact phone needs a contact: contacts[0].name is missing',
      record,
    });
  }
  if (problems.length > before) return undefined;

  const paused = service.status === 'temporarily closed';
  const draft = {
    id: extension?.id ?? derivedDirectoryId(service.name, service.id, 'service'),
    partnerId,
    name: service.name,
    description: descriptionOf(service.description, pathOf(base, ['description']), record, notes),
    categories,
    coverage,
    eligibility: {
      minimumAge: service.minimum_age,
      maximumAge: service.maximum_age,
      criteria: extension?.eligibility_criteria,
    },
    capacity: {
      state: paused ? 'paused' : (extension?.capacity?.state ?? 'open'),
      weeklyLimit: extension?.capacity?.weekly_limit,
    },
    acceptsSignposting: extension?.accepts_signposting,
    responseDays: extension?.response_days,
    contact: contactName
      ? { name: contactName, email: service.email?.trim() || undefined, phone: extension?.contact_phone }
      : undefined,
    status: service.status === 'inactive' || service.status === 'defunct' ? 'retired' : 'active',
  };
  const checked = Service.safeParse(draft);
  if (!checked.success) {
    for (const issue of checked.error.issues)
      problems.push({ path: pathOf(base, servicePathOf(issue.path)), rule: issue.message, record });
    return undefined;
  }
  const { version: _version, ...mapped } = checked.data;
  return withoutUndefined(mapped);
}

function unsaidOf(service: OrukService): UnsaidServiceField[] {
  const extension = service.x_social_prescribing;
  const unsaid: UnsaidServiceField[] = [];
  if (extension?.accepts_signposting === undefined) unsaid.push('acceptsSignposting');
  if (extension?.response_days === undefined) unsaid.push('responseDays');
  // ORUK's status says "temporarily closed"; nothing in ORUK says open, full or "no longer paused".
  if (extension?.capacity === undefined && service.status !== 'temporarily closed')
    unsaid.push('capacityState');
  if (extension?.capacity === undefined) unsaid.push('weeklyLimit');
  if (extension?.eligibility_criteria === undefined) unsaid.push('criteria');
  if (extension?.contact_phone === undefined) unsaid.push('contactPhone');
  return unsaid;
}

/** Drops undefined properties (deeply), so records compare and serialise the same however they were built. */
function withoutUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Problems by record, as the file has them (a stable sort: within a record, as found). */
function inFileOrder(problems: ImportProblem[]): ImportProblem[] {
  const indexOf = (path: string): number => {
    const match = /^(?:contents|content)?\[(\d+)\]/.exec(path);
    return match ? Number(match[1]) : Number.MAX_SAFE_INTEGER;
  };
  return [...problems].sort((a, b) => indexOf(a.path) - indexOf(b.path));
}

/** Reads a whole ORUK file: every record, or every problem (with its path and rule). */
export function importOruk(file: unknown): OrukImport {
  const problems: ImportProblem[] = [];
  const notes: ImportProblem[] = [];
  const envelope = envelopeOf(withoutNulls(file), problems);
  if (!envelope) return { ok: false, problems };

  // First pass: every service read, every organisation collected (a service may name one given in another).
  const organizations = new Map<string, OrganizationSeen>();
  const partnerIds = new Map<string, { orukId: string; path: string }>();
  // Organisations already reported bad: each is reported once, and services naming it are not reported again.
  const badOrganizations = new Set<string>();
  /** Reads an organisation wherever it is given; answers its id (a string) if it has one, good or bad. */
  const addOrganization = (raw: unknown, path: string): string | undefined => {
    const rawId = (raw as { id?: unknown } | undefined)?.id;
    const id = typeof rawId === 'string' ? rawId : undefined;
    const bad = (): string | undefined => {
      if (id !== undefined) badOrganizations.add(id);
      return id;
    };
    if (id !== undefined && badOrganizations.has(id)) return id;
    const parsed = OrukOrganization.safeParse(raw);
    if (!parsed.success) {
      problems.push(...zodProblems(parsed.error, path, raw));
      return bad();
    }
    const org = parsed.data;
    const record = `organisation "${org.name}"`;
    const partner = partnerOf(org, path, problems, notes);
    if (!partner) return bad();
    const fingerprint = canonicalJson(partner);
    const seen = organizations.get(org.id);
    if (seen) {
      if (seen.fingerprint === fingerprint) return org.id;
      problems.push({
        path,
        rule: `organisation ${org.id} differs from the one at ${seen.path}: wherever it appears it must say the same (name, identifiers, x_social_prescribing)`,
        record,
      });
      return bad();
    }
    const clash = partnerIds.get(partner.id);
    if (clash) {
      problems.push({
        path: pathOf(path, org.x_social_prescribing?.id ? ['x_social_prescribing', 'id'] : ['name']),
        rule: `partner id "${partner.id}" is also organisation ${clash.orukId}'s (at ${clash.path}): duplicate id`,
        record,
      });
      return bad();
    }
    partnerIds.set(partner.id, { orukId: org.id, path });
    const unsaid: UnsaidPartnerField[] = [
      ...(org.x_social_prescribing?.channel ? [] : ['channel' as const]),
      ...(org.x_social_prescribing?.status ? [] : ['status' as const]),
    ];
    organizations.set(org.id, { partner, path, fingerprint, unsaid });
    return org.id;
  };

  const services: Array<{
    service: OrukService;
    base: string;
    nested: boolean;
    nestedId: string | undefined;
  }> = [];
  for (const [i, raw] of envelope.items.entries()) {
    const base = envelope.base(i);
    // The nested organisation is read on its own, so its problems are reported once, wherever it appears.
    const nested = (raw as { organization?: unknown } | undefined)?.organization;
    const nestedId =
      nested === undefined ? undefined : addOrganization(nested, pathOf(base, ['organization']));
    const parsed = OrukService.safeParse(raw);
    if (!parsed.success) {
      const label = (raw as { name?: unknown } | undefined)?.name;
      problems.push(
        ...zodProblems(
          parsed.error,
          base,
          raw,
          typeof label === 'string' ? `service "${label.slice(0, 80)}"` : undefined,
        ),
      );
      continue;
    }
    services.push({ service: parsed.data, base, nested: nested !== undefined, nestedId });
  }
  for (const [k, raw] of envelope.organizations.entries())
    addOrganization(raw, pathOf('x_social_prescribing', ['organizations', k]));

  // Second pass: each service mapped, with its organisation and the cross-record rules.
  const orukServiceIds = new Map<string, string>();
  const serviceIds = new Map<string, string>();
  const mapped: OrukRecords['services'] = [];
  for (const { service, base, nested, nestedId } of services) {
    const record = `service "${service.name}"`;
    const firstWithId = orukServiceIds.get(service.id);
    if (firstWithId) {
      problems.push({
        path: pathOf(base, ['id']),
        rule: `duplicate id ${service.id}: also ${firstWithId}`,
        record,
      });
      continue;
    }
    orukServiceIds.set(service.id, base);

    if (nested && nestedId === undefined) continue; // an organisation without an id: reported where it is
    if (nested && service.organization_id !== undefined && service.organization_id !== nestedId) {
      problems.push({
        path: pathOf(base, ['organization_id']),
        rule: `is ${service.organization_id} but organization.id is ${nestedId}`,
        record,
      });
      continue;
    }
    const orgId = nestedId ?? service.organization_id;
    if (orgId === undefined) {
      problems.push({
        path: pathOf(base, ['organization']),
        rule: 'is required: the service names no organisation (give organization, or the organization_id of one given elsewhere in the file)',
        record,
      });
      continue;
    }
    const organization = organizations.get(orgId);
    if (!organization) {
      // An organisation that was itself bad is already reported.
      if (!badOrganizations.has(orgId))
        problems.push({
          path: pathOf(base, ['organization_id']),
          rule: `no organisation with id ${orgId} is given in the file (nest it as organization in one of its services)`,
          record,
        });
      continue;
    }
    const draft = serviceOf(service, base, organization.partner.id, problems, notes);
    if (!draft) continue;
    const firstWithOurId = serviceIds.get(draft.id);
    if (firstWithOurId) {
      problems.push({
        path: pathOf(base, service.x_social_prescribing?.id ? ['x_social_prescribing', 'id'] : ['name']),
        rule: `service id "${draft.id}" is also ${firstWithOurId}'s: duplicate id`,
        record,
      });
      continue;
    }
    serviceIds.set(draft.id, base);
    mapped.push({ service: draft, path: base, unsaid: unsaidOf(service) });
  }

  if (problems.length > 0) return { ok: false, problems: inFileOrder(problems) };
  return {
    ok: true,
    records: {
      partners: [...organizations.values()].map(({ partner, path, unsaid }) => ({ partner, path, unsaid })),
      services: mapped,
      notes,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------------------------

export type OrukStatus = (typeof orukStatuses)[number];

/** Retired is `inactive`; a paused service is `temporarily closed`; full is still `active` (capacity says full). */
export function orukStatusOf(service: Pick<Service, 'status' | 'capacity'>): OrukStatus {
  if (service.status === 'retired') return 'inactive';
  return service.capacity.state === 'paused' ? 'temporarily closed' : 'active';
}

const organizationIdOf = (partner: Pick<Partner, 'id' | 'identifiers'>): string =>
  partner.identifiers.orukId ?? orukUuid('partner', partner.id);

function organizationOf(partner: PartnerDraft): Record<string, unknown> {
  const id = organizationIdOf(partner);
  const identifiers = [
    ...(partner.identifiers.charityNumber
      ? [{ scheme: 'GB-CHC', type: 'Charity number', value: partner.identifiers.charityNumber }]
      : []),
    ...(partner.identifiers.companyNumber
      ? [{ scheme: 'GB-COH', type: 'Company number', value: partner.identifiers.companyNumber }]
      : []),
  ];
  return {
    id,
    name: partner.name,
    // Required by ORUK; we keep no description of a partner.
    description: partner.name,
    ...(identifiers.length > 0
      ? {
          organization_identifiers: identifiers.map(({ scheme, type, value }) => ({
            id: orukUuid('organization-identifier', partner.id, scheme),
            organization_id: id,
            identifier_scheme: scheme,
            identifier_type: type,
            identifier: value,
          })),
        }
      : {}),
    x_social_prescribing: {
      id: partner.id,
      ...(partner.channel ? { channel: partner.channel } : {}),
      status: partner.status,
    },
  };
}

function areasOf(service: ServiceDraft): Area[] {
  return [
    ...service.coverage.districts.map((code): Area => ({ level: 'district', code })),
    ...service.coverage.lsoas.map((code): Area => ({ level: 'lsoa', code })),
    ...service.coverage.localAuthorities.map((code): Area => ({ level: 'localAuthority', code })),
  ];
}

/** One ORUK 3.0 service, with its organisation nested. */
export function orukServiceOf(service: ServiceDraft, partner: PartnerDraft): Record<string, unknown> {
  const id = orukUuid('service', service.id);
  const extension = {
    id: service.id,
    accepts_signposting: service.acceptsSignposting,
    response_days: service.responseDays,
    capacity: {
      state: service.capacity.state,
      ...(service.capacity.weeklyLimit !== undefined ? { weekly_limit: service.capacity.weeklyLimit } : {}),
    },
    ...(service.eligibility.criteria ? { eligibility_criteria: service.eligibility.criteria } : {}),
    ...(service.contact?.phone ? { contact_phone: service.contact.phone } : {}),
  };
  return {
    id,
    organization_id: organizationIdOf(partner),
    name: service.name,
    ...(service.description ? { description: service.description } : {}),
    ...(service.contact?.email ? { email: service.contact.email } : {}),
    status: orukStatusOf(service),
    ...(service.eligibility.minimumAge !== undefined ? { minimum_age: service.eligibility.minimumAge } : {}),
    ...(service.eligibility.maximumAge !== undefined ? { maximum_age: service.eligibility.maximumAge } : {}),
    organization: organizationOf(partner),
    service_areas: areasOf(service).map((area) => ({
      id: orukUuid('service-area', service.id, area.level, area.code),
      service_id: id,
      name: area.code,
      extent_type: 'text',
      uri: areaUri(area),
    })),
    ...(service.contact
      ? { contacts: [{ id: orukUuid('contact', service.id), service_id: id, name: service.contact.name }] }
      : {}),
    attributes: service.categories.map((category) => ({
      id: orukUuid('attribute', service.id, category),
      link_id: id,
      link_type: 'service_type',
      taxonomy_term_id: orukUuid('taxonomy-term', category),
      taxonomy_term: {
        id: orukUuid('taxonomy-term', category),
        name: categoryTerms[category].name,
        description: categoryTerms[category].description,
        taxonomy: categoryTaxonomy,
        term_uri: categoryTermUri(category),
      },
    })),
    x_social_prescribing: extension,
  };
}

/**
 * The directory's partners and services as an ORUK 3.0 page of services (one page holding them all), in the order
 * given. Partners with no service are kept in the page's `x_social_prescribing.organizations`.
 */
export function exportOruk(
  partners: readonly PartnerDraft[],
  services: readonly ServiceDraft[],
): Record<string, unknown> {
  const byId = new Map(partners.map((p) => [p.id, p]));
  const contents = services.map((service) => {
    const partner = byId.get(service.partnerId);
    if (!partner)
      throw new Error(
        `Service ${service.id} names partner ${service.partnerId}, which is not in the directory`,
      );
    return orukServiceOf(service, partner);
  });
  const served = new Set(services.map((s) => s.partnerId));
  const alone = partners.filter((p) => !served.has(p.id));
  return {
    total_items: contents.length,
    total_pages: 1,
    page_number: 1,
    size: contents.length,
    first_page: true,
    last_page: true,
    empty: contents.length === 0,
    contents,
    ...(alone.length > 0 ? { x_social_prescribing: { organizations: alone.map(organizationOf) } } : {}),
  };
}

/** A stored partner as the file would give it (what import compares and export writes). */
export function partnerDraftOf(partner: Partner): PartnerDraft {
  const { version: _version, responseRecord: _responseRecord, ...draft } = partner;
  return withoutUndefined(draft);
}

export function serviceDraftOf(service: Service): ServiceDraft {
  const { version: _version, ...draft } = service;
  return withoutUndefined(draft);
}
