import { Webhook } from 'standardwebhooks';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createRecord,
  directoryIdFrom,
  getRecord,
  newWebhookSecret,
  pauseService,
  resumeService,
  retireRecord,
  rotateSigningSecret,
  updateRecord,
  type DirectoryAdminDeps,
} from '#directory/application/edit-directory.ts';
import { WebhookSecret } from '#directory/domain/directory.ts';
import {
  ConflictError,
  NotFoundError,
  UnprocessableError,
  ValidationError,
  VersionConflictError,
} from '#kernel/errors.ts';
import { FakeClock, InMemoryAuditLog, InMemoryRecipientSecrets, localChannels } from './fakes.ts';
import { InMemoryDirectoryEditor } from './fakes-directory-editor.ts';
import { sampleDirectory } from './fixtures.ts';

// The directory's admin use cases on the in-memory fakes: version guards, retirement, pause and resume, the
// signing secret made once and rotated, references checked, every change audited once.

const actor = 'admin:unit-admin';
let editor: InMemoryDirectoryEditor;
let secrets: InMemoryRecipientSecrets;
let audit: InMemoryAuditLog;
let clock: FakeClock;
let deps: DirectoryAdminDeps;
let secretsMade: number;

beforeEach(() => {
  const snapshot = sampleDirectory();
  editor = new InMemoryDirectoryEditor(snapshot);
  secrets = new InMemoryRecipientSecrets(snapshot);
  audit = new InMemoryAuditLog();
  clock = new FakeClock('2026-01-05T10:00:00.000Z');
  secretsMade = 0;
  deps = {
    editor,
    directory: editor,
    secrets,
    audit,
    clock,
    channels: localChannels,
    newSecret: () => `whsec_${Buffer.from(`unit-secret-number-${++secretsMade}-padding`).toString('base64')}`,
  };
});

const partnerBody = (overrides: Record<string, unknown> = {}) => ({
  id: 'food-share',
  name: 'Food Share Leeds',
  identifiers: { charityNumber: '1000099' },
  channel: { kind: 'webhook', url: 'https://hooks.example.test/food-share' },
  ...overrides,
});
const serviceBody = (overrides: Record<string, unknown> = {}) => ({
  id: 'svc-pantry',
  partnerId: 'food-share',
  name: 'Community Pantry',
  categories: ['food'],
  coverage: { districts: ['XX6'] },
  ...overrides,
});
const teamBody = (overrides: Record<string, unknown> = {}) => ({
  id: 'lw-new',
  name: 'New link workers',
  // In the sample directory, with no team yet.
  pcn: 'U00004',
  channel: { kind: 'webhook', url: 'https://hooks.example.test/lw-new' },
  ...overrides,
});

async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a refusal');
}

const foodIn = async (district: string) =>
  (await editor.servicesCovering('food', { district })).map((c) => c.service.id);

describe('creating', () => {
  it('a partner: stored at version 1, active, its signing secret stored and answered once', async () => {
    const { record, signingSecret } = await createRecord(deps, 'partner', partnerBody(), actor);
    expect(record).toMatchObject({ id: 'food-share', version: 1, status: 'active' });
    expect(signingSecret).toBe(await secrets.secretOf('partner', 'food-share'));
    expect(WebhookSecret.safeParse(signingSecret).success).toBe(true);
    // What is read back never carries it.
    expect(JSON.stringify(await getRecord(deps, 'partner', 'food-share'))).not.toContain(signingSecret);
    expect(audit.forReferral('directory#partner#food-share')).toEqual([
      {
        referralId: 'directory#partner#food-share',
        eventKey: 'v1',
        action: 'directory.partner.created',
        actor,
        at: '2026-01-05T10:00:00.000Z',
        detail: { version: 1, status: 'active' },
      },
    ]);
  });

  it('a service: listed in the coverage index; no secret (services are not recipients)', async () => {
    await createRecord(deps, 'partner', partnerBody(), actor);
    const created = await createRecord(deps, 'service', serviceBody(), actor);
    expect(created.signingSecret).toBeUndefined();
    expect(await foodIn('XX6')).toEqual(['svc-pantry']);
  });

  it('a team: routing finds it for its PCN; a second active team for that PCN is refused', async () => {
    await createRecord(deps, 'team', teamBody(), actor);
    expect((await editor.teamForPcn('U00004'))?.id).toBe('lw-new');
    const error = await refusal(createRecord(deps, 'team', teamBody({ id: 'lw-other' }), actor));
    expect(error).toBeInstanceOf(ConflictError);
    expect(await secrets.secretOf('team', 'lw-other')).toBeUndefined();
  });

  it("an existing id is refused with the stored version, and the existing recipient's secret is untouched", async () => {
    const before = await secrets.secretOf('partner', 'arts-for-all');
    const error = await refusal(createRecord(deps, 'partner', partnerBody({ id: 'arts-for-all' }), actor));
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error.message).toBe('partner arts-for-all already exists (version 1); nothing was changed');
    expect(await secrets.secretOf('partner', 'arts-for-all')).toBe(before);
    expect(audit.entries).toEqual([]);
  });

  it('the same create again after it completed is refused too: a lost secret is rotated, not re-made by a create', async () => {
    const first = await createRecord(deps, 'partner', partnerBody(), actor);
    const error = await refusal(createRecord(deps, 'partner', partnerBody(), actor));
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(await secrets.secretOf('partner', 'food-share')).toBe(first.signingSecret);
  });

  it('the same create again after a crash before its secret was stored finishes it, with a secret', async () => {
    const failing = {
      ...deps,
      secrets: Object.assign(Object.create(secrets) as InMemoryRecipientSecrets, {
        putSecret: () => Promise.reject(new Error('secret store down')),
      }),
    };
    await expect(createRecord(failing, 'partner', partnerBody(), actor)).rejects.toThrow('secret store down');
    const { signingSecret } = await createRecord(deps, 'partner', partnerBody(), actor);
    expect(signingSecret).toBe(await secrets.secretOf('partner', 'food-share'));
    expect(audit.forReferral('directory#partner#food-share')).toHaveLength(1);
  });

  it.each([
    [{ version: 2 }, 'version'],
    [{ status: 'retired' }, 'status'],
    [{ webhookSecret: 'whsec_x' }, 'webhookSecret'],
    [{ id: 'Not An Id' }, 'id'],
    [{ channel: { kind: 'webhook', url: 'ftp://hooks.example.test' } }, 'channel.url'],
  ])('refuses %j, naming %s (400)', async (overrides, field) => {
    const error = await refusal(createRecord(deps, 'partner', partnerBody(overrides), actor));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems.map((p) => p.field)).toContain(field);
  });

  it.each([
    [{ coverage: { districts: ['LS6', 'LS7', 'LS6'] } }, 'coverage.districts.2', '"LS6"'],
    [{ coverage: { lsoas: ['E01011264', 'E01011264'] } }, 'coverage.lsoas.1', '"E01011264"'],
    [
      { coverage: { localAuthorities: ['E08000035', 'E08000035'] } },
      'coverage.localAuthorities.1',
      '"E08000035"',
    ],
    [{ categories: ['food', 'food'] }, 'categories.1', '"food"'],
  ])('refuses a repeated area or category %j, naming it (400)', async (overrides, field, named) => {
    const error = await refusal(createRecord(deps, 'service', serviceBody(overrides), actor));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([
      expect.objectContaining({ field, rule: expect.stringContaining(`${named} more than once`) }),
    ]);
  });

  it('refuses a service whose coverage would make more than 1,000 index entries (categories x areas), naming coverage (400)', async () => {
    const lsoas = Array.from({ length: 400 }, (_, i) => `E01${String(i).padStart(6, '0')}`);
    const body = serviceBody({ categories: ['food', 'arts', 'nature'], coverage: { lsoas } });
    const error = await refusal(createRecord(deps, 'service', body, actor));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).problems).toEqual([
      expect.objectContaining({
        field: 'coverage',
        rule: expect.stringContaining('cover a whole local authority instead of many LSOAs'),
      }),
    ]);
    // One category over the same 400 LSOAs is 400 entries: within the limit (it gets as far as the partner check).
    const within = await refusal(
      createRecord(deps, 'service', serviceBody({ categories: ['food'], coverage: { lsoas } }), actor),
    );
    expect(within).not.toBeInstanceOf(ValidationError);
  });

  it.each([
    ['team', 'http://169.254.169.254/latest/meta-data', 'allow-loopback-http'],
    ['partner', 'https://10.0.0.5/hooks', 'allow-loopback-http'],
    ['partner', 'http://hooks.example.test/food-share', 'allow-loopback-http'],
    ['team', 'http://127.0.0.1:3001/hooks/lw-new', 'https-only'],
    ['partner', 'https://[fe80::1]/hooks', 'https-only'],
  ] as const)(
    "refuses a %s's channel %s under %s (422 on channel.url), writing nothing",
    async (kind, url, policy) => {
      const body = (kind === 'team' ? teamBody : partnerBody)({ channel: { kind: 'webhook', url } });
      const error = await refusal(createRecord({ ...deps, channels: policy }, kind, body, actor));
      expect(error).toBeInstanceOf(UnprocessableError);
      expect(error).toMatchObject({ field: 'channel.url' });
      expect(error.message).toMatch(/https|loopback/);
      expect(await editor.get(kind, body.id as string)).toBeUndefined();
    },
  );

  it('refuses an update that moves a channel somewhere the policy refuses (422 on channel.url)', async () => {
    await createRecord(deps, 'partner', partnerBody(), actor);
    const moved = partnerBody({ version: 1, channel: { kind: 'webhook', url: 'http://169.254.169.254/x' } });
    const error = await refusal(updateRecord(deps, 'partner', 'food-share', moved, actor));
    expect(error).toMatchObject({ field: 'channel.url' });
    expect((await editor.get('partner', 'food-share'))?.channel).toEqual({
      kind: 'webhook',
      url: 'https://hooks.example.test/food-share',
    });
  });

  it.each([[{ kind: 'email', address: 'referrals@food-share.example.test' }], [{ kind: 'worklist' }]])(
    'stores a partner on the %o channel (no URL for the channel policy), and moves it back to a webhook',
    async (channel) => {
      await createRecord({ ...deps, channels: 'https-only' }, 'partner', partnerBody({ channel }), actor);
      expect((await editor.get('partner', 'food-share'))?.channel).toEqual(channel);
      await updateRecord(deps, 'partner', 'food-share', partnerBody({ version: 1 }), actor);
      expect((await editor.get('partner', 'food-share'))?.channel.kind).toBe('webhook');
    },
  );

  it.each([
    [{ kind: 'email', address: 'not an address' }, 'channel.address'],
    [{ kind: 'email' }, 'channel.address'],
    [{ kind: 'worklist', url: 'https://hooks.example.test/x' }, 'channel'],
    [{ kind: 'fax', number: '0113 496 0000' }, 'channel'],
  ])('refuses the channel %o (400 naming %s), writing nothing', async (channel, field) => {
    const error = await refusal(createRecord(deps, 'partner', partnerBody({ channel }), actor));
    expect(error).toBeInstanceOf(ValidationError);
    expect(JSON.stringify(error)).toContain(field);
    expect(await editor.get('partner', 'food-share')).toBeUndefined();
  });

  it('a service must name a partner in the directory, and an active one (422 on partnerId)', async () => {
    const missing = await refusal(createRecord(deps, 'service', serviceBody({ partnerId: 'nobody' }), actor));
    expect(missing).toBeInstanceOf(UnprocessableError);
    expect(missing).toMatchObject({ field: 'partnerId' });
    await createRecord(deps, 'partner', partnerBody(), actor);
    await retireRecord(deps, 'partner', 'food-share', { version: 1 }, actor);
    const retired = await refusal(createRecord(deps, 'service', serviceBody(), actor));
    expect(retired).toBeInstanceOf(UnprocessableError);
    expect(retired.message).toContain('retired');
  });

  it("a team's practices must be in the directory and in its PCN (422 naming the entry)", async () => {
    const foreign = await refusal(
      createRecord(deps, 'team', teamBody({ practices: ['A81001'], pcn: 'U00004' }), actor),
    );
    expect(foreign).toMatchObject({ field: 'practices.0' });
    expect(foreign.message).toContain('U00001');
    const unknown = await refusal(createRecord(deps, 'team', teamBody({ practices: ['Z99999'] }), actor));
    expect(unknown).toMatchObject({ field: 'practices.0' });
  });

  it("a team's PCN must be in the directory (422 on pcn), writing nothing", async () => {
    const error = await refusal(createRecord(deps, 'team', teamBody({ pcn: 'U09999' }), actor));
    expect(error).toBeInstanceOf(UnprocessableError);
    expect(error).toMatchObject({ field: 'pcn' });
    expect(error.message).toBe(
      'must be a PCN in the directory, and U09999 is not: PCNs come from the ODS membership file (npm run directory -- import-practices)',
    );
    expect(await editor.get('team', 'lw-new')).toBeUndefined();
    expect(await editor.teamForPcn('U09999')).toBeUndefined();
    expect(await secrets.secretOf('team', 'lw-new')).toBeUndefined();
    expect(audit.entries).toEqual([]);
    expect(editor.calls.create).toBe(0);
  });

  it('a PCN put by the ODS import is one a team may name at once', async () => {
    await editor.putPractices([{ code: 'U09999', name: 'New PCN', icb: 'Test ICB' }], []);
    const { record } = await createRecord(deps, 'team', teamBody({ pcn: 'U09999' }), actor);
    expect(record).toMatchObject({ id: 'lw-new', pcn: 'U09999', version: 1 });
    expect((await editor.teamForPcn('U09999'))?.id).toBe('lw-new');
  });
});

describe('updating (PUT: the whole record, with the version it was read at)', () => {
  beforeEach(async () => {
    await createRecord(deps, 'partner', partnerBody(), actor);
    await createRecord(deps, 'service', serviceBody(), actor);
  });

  it('stores version + 1 and audits which fields changed', async () => {
    const updated = await updateRecord(
      deps,
      'service',
      'svc-pantry',
      serviceBody({ version: 1, coverage: { districts: ['XX7'] } }),
      actor,
    );
    expect(updated.version).toBe(2);
    expect(await foodIn('XX6')).toEqual([]);
    expect(await foodIn('XX7')).toEqual(['svc-pantry']);
    expect(audit.forReferral('directory#service#svc-pantry').at(-1)).toMatchObject({
      eventKey: 'v2',
      action: 'directory.service.updated',
      detail: { version: 2, changed: ['coverage'] },
    });
  });

  it('moving a team to a PCN not in the directory is refused (422 on pcn) and changes nothing', async () => {
    const stored = await getRecord(deps, 'team', 'lw-woodhouse');
    const error = await refusal(
      updateRecord(deps, 'team', 'lw-woodhouse', { ...stored, pcn: 'U09999' }, actor),
    );
    expect(error).toBeInstanceOf(UnprocessableError);
    expect(error).toMatchObject({ field: 'pcn' });
    expect(await editor.get('team', 'lw-woodhouse')).toEqual(stored);
    expect((await editor.teamForPcn('U00001'))?.id).toBe('lw-woodhouse');
    expect(editor.calls.replace).toBe(0);
  });

  it('a stale version is refused (409 naming the stored version) and changes nothing', async () => {
    await updateRecord(deps, 'service', 'svc-pantry', serviceBody({ version: 1, name: 'Pantry' }), actor);
    const error = await refusal(
      updateRecord(deps, 'service', 'svc-pantry', serviceBody({ version: 1, name: 'Late edit' }), actor),
    );
    expect(error).toBeInstanceOf(VersionConflictError);
    expect(error.message).toContain('is at version 2, not 1');
    expect(await getRecord(deps, 'service', 'svc-pantry')).toMatchObject({ name: 'Pantry', version: 2 });
    expect(audit.forReferral('directory#service#svc-pantry').map((e) => e.eventKey)).toEqual(['v1', 'v2']);
  });

  it('the same PUT sent again is answered as stored: no version 3, audited once', async () => {
    const body = serviceBody({ version: 1, name: 'Pantry' });
    await updateRecord(deps, 'service', 'svc-pantry', body, actor);
    await expect(updateRecord(deps, 'service', 'svc-pantry', body, actor)).resolves.toMatchObject({
      version: 2,
    });
    expect(audit.forReferral('directory#service#svc-pantry').map((e) => e.eventKey)).toEqual(['v1', 'v2']);
  });

  it('a PUT that changes nothing writes nothing', async () => {
    await expect(
      updateRecord(deps, 'service', 'svc-pantry', serviceBody({ version: 1 }), actor),
    ).resolves.toMatchObject({ version: 1 });
    expect(editor.calls.replace).toBe(0);
  });

  it('needs the version, the id of the path, and a record that exists', async () => {
    const noVersion = await refusal(updateRecord(deps, 'service', 'svc-pantry', serviceBody(), actor));
    expect((noVersion as ValidationError).problems).toEqual([
      { field: 'version', rule: 'is required', kind: 'required' },
    ]);
    const otherId = await refusal(
      updateRecord(deps, 'service', 'svc-pantry', serviceBody({ version: 1, id: 'svc-other' }), actor),
    );
    expect((otherId as ValidationError).problems[0]?.field).toBe('id');
    const missing = await refusal(
      updateRecord(deps, 'service', 'svc-other', serviceBody({ version: 1, id: 'svc-other' }), actor),
    );
    expect(missing).toBeInstanceOf(NotFoundError);
  });

  it("a partner's new name reaches its services' candidates", async () => {
    await updateRecord(
      deps,
      'partner',
      'food-share',
      partnerBody({ version: 1, name: 'Leeds Pantry' }),
      actor,
    );
    const [candidate] = await editor.servicesCovering('food', { district: 'XX6' });
    expect(candidate?.partner.name).toBe('Leeds Pantry');
  });

  it('retiring is final: a PUT may retire, but never bring a retired record back', async () => {
    await updateRecord(deps, 'service', 'svc-pantry', serviceBody({ version: 1, status: 'retired' }), actor);
    expect(audit.forReferral('directory#service#svc-pantry').at(-1)?.action).toBe(
      'directory.service.retired',
    );
    const error = await refusal(
      updateRecord(deps, 'service', 'svc-pantry', serviceBody({ version: 2, status: 'active' }), actor),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toContain('retiring is final');
  });
});

describe('retiring, pausing, resuming', () => {
  beforeEach(async () => {
    await createRecord(deps, 'partner', partnerBody(), actor);
    await createRecord(deps, 'service', serviceBody(), actor);
  });

  it('a retired service leaves the index and keeps its record; retiring it again at that version is a no-op', async () => {
    const retired = await retireRecord(deps, 'service', 'svc-pantry', { version: 1 }, actor);
    expect(retired).toMatchObject({ status: 'retired', version: 2 });
    expect(await foodIn('XX6')).toEqual([]);
    expect(await getRecord(deps, 'service', 'svc-pantry')).toEqual(retired);
    await expect(retireRecord(deps, 'service', 'svc-pantry', { version: 2 }, actor)).resolves.toEqual(
      retired,
    );
    // Sent again with the version it was made on: the same change, answered as stored.
    await expect(retireRecord(deps, 'service', 'svc-pantry', { version: 1 }, actor)).resolves.toEqual(
      retired,
    );
    expect(audit.forReferral('directory#service#svc-pantry').map((e) => e.action)).toEqual([
      'directory.service.created',
      'directory.service.retired',
    ]);
  });

  it('pause and resume move capacity between paused and open, each a version', async () => {
    const paused = await pauseService(deps, 'svc-pantry', { version: 1 }, actor);
    expect(paused).toMatchObject({ capacity: { state: 'paused' }, version: 2 });
    const [candidate] = await editor.servicesCovering('food', { district: 'XX6' });
    expect(candidate?.service.capacity.state).toBe('paused');
    const resumed = await resumeService(deps, 'svc-pantry', { version: 2 }, actor);
    expect(resumed).toMatchObject({ capacity: { state: 'open' }, version: 3 });
    expect(audit.forReferral('directory#service#svc-pantry').map((e) => [e.eventKey, e.action])).toEqual([
      ['v1', 'directory.service.created'],
      ['v2', 'directory.service.paused'],
      ['v3', 'directory.service.resumed'],
    ]);
  });

  it('a stale pause is refused and changes nothing; a retired service cannot be paused or resumed', async () => {
    await pauseService(deps, 'svc-pantry', { version: 1 }, actor);
    await resumeService(deps, 'svc-pantry', { version: 2 }, actor);
    expect(await refusal(pauseService(deps, 'svc-pantry', { version: 2 }, actor))).toBeInstanceOf(
      VersionConflictError,
    );
    expect((await getRecord(deps, 'service', 'svc-pantry')).capacity.state).toBe('open');
    await retireRecord(deps, 'service', 'svc-pantry', { version: 3 }, actor);
    expect(await refusal(resumeService(deps, 'svc-pantry', { version: 4 }, actor))).toBeInstanceOf(
      ConflictError,
    );
  });

  it('retiring a partner takes its services out of the index; the body needs just the version', async () => {
    await retireRecord(deps, 'partner', 'food-share', { version: 1 }, actor);
    expect(await foodIn('XX6')).toEqual([]);
    const error = await refusal(retireRecord(deps, 'partner', 'food-share', { version: 2, why: 'x' }, actor));
    expect((error as ValidationError).problems[0]?.field).toBe('why');
  });

  it('retiring a team leaves its PCN with no active team', async () => {
    const team = await getRecord(deps, 'team', 'lw-woodhouse');
    await retireRecord(deps, 'team', 'lw-woodhouse', { version: team.version }, actor);
    expect(await editor.teamForPcn('U00001')).toMatchObject({ id: 'lw-woodhouse', status: 'retired' });
  });
});

describe('signing secrets', () => {
  it('rotate-secret stores a new one, answers it, and audits the rotation without it', async () => {
    const { signingSecret } = await createRecord(deps, 'partner', partnerBody(), actor);
    const rotated = await rotateSigningSecret(deps, 'partner', 'food-share', undefined, actor);
    expect(rotated).toEqual({
      kind: 'partner',
      id: 'food-share',
      signingSecret: expect.stringMatching(/^whsec_/),
      rotatedAt: '2026-01-05T10:00:00.000Z',
    });
    expect(rotated.signingSecret).not.toBe(signingSecret);
    expect(await secrets.secretOf('partner', 'food-share')).toBe(rotated.signingSecret);
    const entries = audit.forReferral('directory#partner#food-share');
    expect(entries.at(-1)).toMatchObject({
      action: 'directory.partner.secret-rotated',
      detail: { version: 1 },
    });
    expect(JSON.stringify(audit.entries)).not.toContain('whsec_');
  });

  it('rotating twice gives two audit entries; an unknown recipient is 404', async () => {
    await rotateSigningSecret(deps, 'team', 'lw-woodhouse', {}, actor);
    await rotateSigningSecret(deps, 'team', 'lw-woodhouse', {}, actor);
    expect(audit.forReferral('directory#team#lw-woodhouse')).toHaveLength(2);
    expect(await refusal(rotateSigningSecret(deps, 'team', 'lw-nobody', {}, actor))).toBeInstanceOf(
      NotFoundError,
    );
  });

  it('newWebhookSecret makes Standard Webhooks secrets of 32 random bytes that sign and verify', () => {
    const secret = newWebhookSecret();
    expect(WebhookSecret.safeParse(secret).success).toBe(true);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(secret);
    const webhook = new Webhook(secret);
    const at = new Date();
    const signature = webhook.sign('msg_1', at, '{"a":1}');
    expect(
      webhook.verify('{"a":1}', {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': signature,
      }),
    ).toEqual({ a: 1 });
  });
});

describe('ids from the path', () => {
  it.each(['lw-woodhouse', 'a', 'svc-2'])('reads %s', (id) => expect(directoryIdFrom(id)).toBe(id));
  it.each(['', 'Upper', 'a--b', 'x'.repeat(65), undefined])('refuses %j (400 on id)', (id) => {
    expect(() => directoryIdFrom(id)).toThrow(ValidationError);
  });
});
