import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDirectory, sampleDirectoryFile } from '../../infra/local/seed.ts';
import { exportDirectory } from '../../infra/ops/directory/export-oruk.ts';
import { ImportWriteError, importOrukFile, newWebhookSecret } from '../../infra/ops/directory/import-oruk.ts';
import { importPracticesFile } from '../../infra/ops/directory/import-practices.ts';
import { mapLimit } from '../../infra/ops/directory/map-limit.ts';
import { run, targetOf } from '../../infra/ops/directory/run.ts';
import { orukSummaryLines, practicesSummaryLines, problemLines } from '../../infra/ops/directory/report.ts';
import { WebhookSecret } from '#directory/domain/directory.ts';
import { importOruk } from '#directory/domain/oruk.ts';
import { InMemoryAuditLog, InMemoryRecipientSecrets } from './fakes.ts';
import { InMemoryDirectoryEditor } from './fakes-directory-editor.ts';

// The import and export use cases over the DirectoryEditor port (the in-memory fake keeps the adapter's promises,
// test/contract/directory-editor.contract.ts); test/integration/directory-cli.test.ts runs them on dynalite.

const webhookBase = 'http://127.0.0.1:3001';
// With the local stack's channel policy: the sample's receivers are plain http on 127.0.0.1.
const auditing = (audit = new InMemoryAuditLog()) => ({
  audit,
  actor: 'import:sample-services.json',
  channels: 'allow-loopback-http' as const,
});
const sample = (): { contents: Array<Record<string, unknown>> } =>
  JSON.parse(
    readFileSync(new URL('../../events/oruk/sample-services.json', import.meta.url), 'utf8').replaceAll(
      '{{WEBHOOK_BASE}}',
      webhookBase,
    ),
  ) as {
    contents: Array<Record<string, unknown>>;
  };
const seeded = () => readDirectory(sampleDirectoryFile, webhookBase);
const organizationOf = (service: Record<string, unknown> | undefined) =>
  service?.organization as Record<string, unknown> & { x_social_prescribing: Record<string, unknown> };

describe('importOrukFile', () => {
  it('writes nothing at all when the file has a problem', async () => {
    const editor = new InMemoryDirectoryEditor();
    const secrets = new InMemoryRecipientSecrets();
    const file = sample();
    file.contents.push({ ...file.contents[0], id: 'not-a-uuid' });
    const result = await importOrukFile(file, { ...auditing(), editor, secrets });
    expect(result.written).toBe(false);
    expect(result.problems).toEqual([expect.objectContaining({ path: 'contents[19].id' })]);
    expect(editor.calls).toEqual({ create: 0, replace: 0 });
    expect(secrets.secrets.size).toBe(0);
  });

  it('refuses a new partner whose file gives no channel, before writing anything', async () => {
    const editor = new InMemoryDirectoryEditor();
    const secrets = new InMemoryRecipientSecrets();
    const file = sample();
    delete organizationOf(file.contents[0]).x_social_prescribing.channel;
    const result = await importOrukFile(file, { ...auditing(), editor, secrets });
    expect(result.problems).toEqual([
      expect.objectContaining({
        path: 'contents[0].organization.x_social_prescribing.channel',
        rule: expect.stringContaining('is required for partner "arts-for-all"'),
      }),
    ]);
    expect(editor.calls).toEqual({ create: 0, replace: 0 });
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data', 'allow-loopback-http'],
    ['https://10.0.0.5/hooks', 'allow-loopback-http'],
    ['http://127.0.0.1:3001/hooks/arts-for-all', 'https-only'],
  ] as const)(
    'refuses a partner whose channel is %s under %s, naming its path, writing nothing',
    async (url, channels) => {
      const editor = new InMemoryDirectoryEditor();
      const secrets = new InMemoryRecipientSecrets();
      const file = sample();
      organizationOf(file.contents[0]).x_social_prescribing.channel = { kind: 'webhook', url };
      const result = await importOrukFile(file, { ...auditing(), channels, editor, secrets });
      expect(result.problems).toContainEqual(
        expect.objectContaining({
          path: 'contents[0].organization.x_social_prescribing.channel.url',
          rule: expect.stringMatching(/https|loopback/),
        }),
      );
      expect(result.written).toBe(false);
      expect(editor.calls).toEqual({ create: 0, replace: 0 });
      expect(secrets.secrets.size).toBe(0);
    },
  );

  it.each([[{ kind: 'email', address: 'referrals@arts-for-all.example.test' }], [{ kind: 'worklist' }]])(
    'imports a partner on the %o channel, which has no URL for the channel policy to judge',
    async (channel) => {
      const editor = new InMemoryDirectoryEditor();
      const secrets = new InMemoryRecipientSecrets();
      const file = sample();
      organizationOf(file.contents[0]).x_social_prescribing.channel = channel;
      const result = await importOrukFile(file, { ...auditing(), channels: 'https-only', editor, secrets });
      // Under https-only every sample webhook (plain http to 127.0.0.1) is refused; this partner is not among them.
      expect(result.problems.filter((p) => p.path.startsWith('contents[0].'))).toEqual([]);
    },
  );

  it.each([
    [{ kind: 'email', address: 'not an address' }],
    [{ kind: 'email' }],
    [{ kind: 'fax', number: '0113 496 0000' }],
  ])('refuses the channel %o, naming where it is', async (channel) => {
    const editor = new InMemoryDirectoryEditor();
    const secrets = new InMemoryRecipientSecrets();
    const file = sample();
    organizationOf(file.contents[0]).x_social_prescribing.channel = channel;
    const result = await importOrukFile(file, { ...auditing(), editor, secrets });
    expect(result.written).toBe(false);
    expect(result.problems).toContainEqual(
      expect.objectContaining({
        path: expect.stringMatching(/^contents\[0\]\.organization\.x_social_prescribing\.channel/),
      }),
    );
  });

  it('creates, with a new secret per new partner (a valid Standard Webhooks secret), unless one is stored', async () => {
    const editor = new InMemoryDirectoryEditor();
    const secrets = new InMemoryRecipientSecrets({
      secrets: { 'partner/green-gym': 'whsec_alreadyGivenToThePartner0000' },
    });
    let n = 0;
    const audit = new InMemoryAuditLog();
    const result = await importOrukFile(sample(), {
      ...auditing(audit),
      editor,
      secrets,
      newSecret: () => `whsec_${String(++n).padStart(32, 'A')}`,
    });
    expect(result.written).toBe(true);
    expect(result.partners.every((p) => p.outcome === 'created')).toBe(true);
    expect(result.secrets).toHaveLength(11);
    expect(result.secrets.find((s) => s.partnerId === 'green-gym')?.outcome).toBe('kept');
    expect(secrets.secrets.get('partner/green-gym')).toBe('whsec_alreadyGivenToThePartner0000');
    expect(secrets.secrets.size).toBe(11);
    expect(orukSummaryLines(result, 'file:/s.json', false)).toEqual([
      'Partners: 11 created, 0 updated, 0 unchanged.',
      'Services: 19 created, 0 updated, 0 unchanged.',
      expect.stringMatching(/^Changed: arts-for-all \(created\), /),
      expect.stringMatching(
        /^Signing secrets generated for 10 new partners, stored in file:\/s.json as partner\/<id> \(their values are not printed.*\): advice-leeds, arts-for-all, blackpool-money-advice, /,
      ),
      'Signing secrets already stored in file:/s.json were kept for 1 new partner: green-gym.',
    ]);
    // Each record created is audited as the admin API audits it, naming the file.
    expect(audit.entries).toHaveLength(30);
    expect(audit.forReferral('directory#partner#green-gym')).toEqual([
      expect.objectContaining({
        eventKey: 'v1',
        action: 'directory.partner.created',
        actor: 'import:sample-services.json',
        detail: { version: 1, status: 'active' },
      }),
    ]);
    expect(audit.forReferral('directory#service#svc-green-gym')).toEqual([
      expect.objectContaining({ eventKey: 'v1', action: 'directory.service.created' }),
    ]);
    expect(WebhookSecret.safeParse(newWebhookSecret()).success).toBe(true);
    expect(newWebhookSecret()).not.toBe(newWebhookSecret());
  });

  it('leaves equal records alone, replaces changed ones at their version, keeps channel and response record', async () => {
    const editor = new InMemoryDirectoryEditor(seeded());
    const stored = await editor.get('partner', 'arts-for-all');
    await editor.replace(
      'partner',
      { ...stored!, responseRecord: { answered: 4, accepted: 3, medianResponseHours: 20 } },
      stored!.version,
    );
    const file = sample();
    const organization = organizationOf(file.contents[0]);
    organization.name = 'Arts for All (Leeds)';
    delete organization.x_social_prescribing.channel;
    const audit = new InMemoryAuditLog();
    const result = await importOrukFile(file, {
      ...auditing(audit),
      editor,
      secrets: new InMemoryRecipientSecrets(),
    });
    expect(result.problems).toEqual([]);
    expect(audit.forReferral('directory#partner#arts-for-all')).toEqual([
      expect.objectContaining({
        eventKey: `v${stored!.version + 2}`,
        action: 'directory.partner.updated',
        actor: 'import:sample-services.json',
        detail: { version: stored!.version + 2, status: 'active', changed: ['name'] },
      }),
    ]);
    expect(result.partners.filter((p) => p.outcome !== 'unchanged')).toEqual([
      { id: 'arts-for-all', outcome: 'updated' },
      { id: 'hyde-park-pantry', outcome: 'created' },
    ]);
    expect(await editor.get('partner', 'arts-for-all')).toEqual({
      ...stored,
      name: 'Arts for All (Leeds)',
      responseRecord: { answered: 4, accepted: 3, medianResponseHours: 20 },
      version: stored!.version + 2,
    });
  });

  it('keeps what only the extension can say when the file does not say it (a feed without our extension)', async () => {
    const directory = seeded();
    const editor = new InMemoryDirectoryEditor(directory);
    const service = await editor.get('service', 'svc-green-gym');
    const partner = await editor.get('partner', 'green-gym');
    await editor.replace(
      'service',
      {
        ...service!,
        acceptsSignposting: false,
        responseDays: 2,
        capacity: { state: 'paused', weeklyLimit: 10 },
        eligibility: { criteria: 'Able to do light outdoor work.' },
      },
      service!.version,
    );
    await editor.replace('partner', { ...partner!, status: 'retired' }, partner!.version);
    const file = sample();
    const green = file.contents.find(
      (s) => (s.x_social_prescribing as { id?: string } | undefined)?.id === 'svc-green-gym',
    )!;
    green.x_social_prescribing = { id: 'svc-green-gym' };
    const organization = organizationOf(green);
    organization.x_social_prescribing = { id: 'green-gym' };

    const result = await importOrukFile(file, {
      ...auditing(),
      editor,
      secrets: new InMemoryRecipientSecrets(),
    });
    expect(result.problems).toEqual([]);
    expect(result.partners.find((p) => p.id === 'green-gym')?.outcome).toBe('unchanged');
    expect(result.services.find((s) => s.id === 'svc-green-gym')?.outcome).toBe('unchanged');

    // Said explicitly, it is taken: the service's status "temporarily closed" pauses, an extension unpauses.
    green.x_social_prescribing = { id: 'svc-green-gym', capacity: { state: 'open' } };
    // (A retired partner stays retired: retiring is final, and the import refuses to bring one back.)
    organization.x_social_prescribing = { id: 'green-gym', status: 'retired' };
    const again = await importOrukFile(file, {
      ...auditing(),
      editor,
      secrets: new InMemoryRecipientSecrets(),
    });
    expect(again.services.find((s) => s.id === 'svc-green-gym')?.outcome).toBe('updated');
    expect(await editor.get('service', 'svc-green-gym')).toMatchObject({
      acceptsSignposting: false,
      responseDays: 2,
      capacity: { state: 'open' },
      eligibility: { criteria: 'Able to do light outdoor work.' },
    });
    expect((await editor.get('service', 'svc-green-gym'))?.capacity.weeklyLimit).toBeUndefined();
    expect((await editor.get('partner', 'green-gym'))?.status).toBe('retired');
  });

  it('refuses to bring back a retired partner or service (retiring is final), writing nothing', async () => {
    const editor = new InMemoryDirectoryEditor(seeded());
    const partner = await editor.get('partner', 'green-gym');
    await editor.replace('partner', { ...partner!, status: 'retired' }, partner!.version);
    const service = await editor.get('service', 'svc-arts-studio');
    await editor.replace('service', { ...service!, status: 'retired' }, service!.version);
    const calls = { ...editor.calls };
    const file = sample();
    // The sample's first service is svc-arts-studio; its second is the first of green-gym's.
    const [serviceIndex, partnerIndex] = [0, 1];
    const result = await importOrukFile(file, {
      ...auditing(),
      editor,
      secrets: new InMemoryRecipientSecrets(),
    });
    expect(result.written).toBe(false);
    expect(result.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: `contents[${partnerIndex}].organization.x_social_prescribing.status`,
          rule: expect.stringContaining('retired in the directory; retiring is final'),
        }),
        expect.objectContaining({
          path: `contents[${serviceIndex}].status`,
          rule: expect.stringContaining('retired in the directory; retiring is final'),
        }),
      ]),
    );
    expect(result.problems).toHaveLength(2);
    expect(editor.calls).toEqual(calls);
    expect((await editor.get('partner', 'green-gym'))?.status).toBe('retired');
    expect((await editor.get('service', 'svc-arts-studio'))?.status).toBe('retired');
  });

  it('on a dry run says what would change and writes nothing', async () => {
    const editor = new InMemoryDirectoryEditor(seeded());
    const secrets = new InMemoryRecipientSecrets();
    const result = await importOrukFile(sample(), { ...auditing(), editor, secrets }, { dryRun: true });
    expect(result.written).toBe(false);
    expect(result.services.filter((s) => s.outcome === 'created')).toHaveLength(5);
    expect(editor.calls).toEqual({ create: 0, replace: 0 });
    expect(secrets.secrets.size).toBe(0);
    expect(orukSummaryLines(result, 'file:/x.json', true)).toContain(
      'New partners would get a signing secret in file:/x.json: hyde-park-pantry.',
    );
  });

  it('stops at a failed write saying how far it got; running it again finishes the job', async () => {
    const editor = new InMemoryDirectoryEditor();
    const secrets = new InMemoryRecipientSecrets();
    const create = editor.create.bind(editor);
    let calls = 0;
    editor.create = async (kind, record) => {
      if (kind === 'service' && ++calls === 3) throw new Error('DynamoDB is away');
      return create(kind, record);
    };
    const failed = importOrukFile(sample(), { ...auditing(), editor, secrets, concurrency: 1 });
    await expect(failed).rejects.toBeInstanceOf(ImportWriteError);
    await expect(failed).rejects.toThrow(/failed after 13 of 30 writes: DynamoDB is away/);
    editor.create = create;
    const again = await importOrukFile(sample(), { ...auditing(), editor, secrets });
    expect(again.partners.every((p) => p.outcome === 'unchanged')).toBe(true);
    expect(again.services.filter((s) => s.outcome === 'created')).toHaveLength(19 - 2);
    expect(again.secrets).toEqual([]);
  });

  it('reports progress after each write', async () => {
    const progress: Array<[number, number]> = [];
    await importOrukFile(sample(), {
      ...auditing(),
      editor: new InMemoryDirectoryEditor(),
      secrets: new InMemoryRecipientSecrets(),
      onProgress: (done, total) => progress.push([done, total]),
    });
    expect(progress).toHaveLength(30);
    expect(progress.at(-1)).toEqual([30, 30]);
  });
});

describe('exportDirectory', () => {
  it('exports the whole directory in id order, which imports back as it is', async () => {
    const directory = seeded();
    const editor = new InMemoryDirectoryEditor(directory);
    const page = (await exportDirectory(editor)) as {
      contents: Array<{ x_social_prescribing: { id: string } }>;
    };
    const ids = page.contents.map((s) => s.x_social_prescribing.id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toHaveLength(directory.services.length);
    const result = await importOrukFile(page, {
      ...auditing(),
      editor,
      secrets: new InMemoryRecipientSecrets(),
    });
    expect([...result.partners, ...result.services].every((r) => r.outcome === 'unchanged')).toBe(true);
    const read = importOruk(page);
    expect(read.ok && read.records.partners).toHaveLength(directory.partners.length);
  });
});

describe('importPracticesFile', () => {
  const csv = readFileSync(new URL('../../events/ods/practice-pcn-sample.csv', import.meta.url), 'utf8');

  it('puts the PCNs and practices and names the practices no active team serves', async () => {
    const directory = seeded();
    const editor = new InMemoryDirectoryEditor({ ...directory, pcns: [], practices: [] });
    const result = await importPracticesFile(csv, editor, { today: '2026-01-20' });
    expect(result.written).toBe(true);
    expect(await editor.practice('C83002')).toEqual({
      ods: 'C83002',
      name: 'St Leonards Surgery',
      pcn: 'U00004',
      area: 'TN37',
    });
    expect(result.withoutTeam.map((p) => p.ods)).toEqual(['C83002']);
    expect(practicesSummaryLines(result, false)).toEqual([
      'Put 4 PCNs and 6 practices.',
      'Skipped 1 relationship not current:',
      '  line 7: C83002 left the PCN on 2023-03-31 (U00003)',
      "No active link-worker team serves 1 practice: their referrals are recorded unmet ('no link-worker team') until one does:",
      '  C83002 St Leonards Surgery (PCN U00004)',
    ]);
  });

  it("an Endpoint column sets a practice's endpoint; a practice the file gives none for keeps the directory's", async () => {
    const directory = seeded();
    const editor = new InMemoryDirectoryEditor(directory);
    const kept = directory.practices.find((p) => p.ods === 'A81001')?.endpoint;
    expect(kept).toEqual({ kind: 'webhook', url: `${webhookBase}/hooks/practice/A81001` });
    const existingPractice = (ods: string) => editor.practice(ods);
    // The ODS file as it comes (no Endpoint column): nothing is lost.
    await importPracticesFile(csv, editor, { today: '2026-01-20', existingPractice });
    expect((await editor.practice('A81001'))?.endpoint).toEqual(kept);
    // A file that names one: set (https), and only for that practice.
    const [header = '', ...lines] = csv.trimEnd().split('\n');
    const withEndpoint = [
      `${header},Endpoint`,
      ...lines.map((line) =>
        line.startsWith('C83001,') ? `${line},https://gp.example.org/bars/C83001` : `${line},`,
      ),
    ].join('\n');
    const result = await importPracticesFile(withEndpoint, editor, { today: '2026-01-20', existingPractice });
    expect(result.problems).toEqual([]);
    expect((await editor.practice('C83001'))?.endpoint).toEqual({
      kind: 'webhook',
      url: 'https://gp.example.org/bars/C83001',
    });
    expect((await editor.practice('A81001'))?.endpoint).toEqual(kept);
  });

  it('a practice with an endpoint gets a signing secret for the messages back to it; one already there is kept', async () => {
    const editor = new InMemoryDirectoryEditor();
    const secrets = new InMemoryRecipientSecrets();
    await secrets.putSecret('practice', 'A81001', 'whsec_already-given');
    const [header = '', ...lines] = csv.trimEnd().split('\n');
    const endpoints = [
      `${header},Endpoint`,
      ...lines.map((line) =>
        line.startsWith('A81001,') || line.startsWith('C83001,')
          ? `${line},https://gp.example.org/bars/${line.slice(0, 6)}`
          : `${line},`,
      ),
    ].join('\n');
    const newSecret = () => 'whsec_generated';
    const result = await importPracticesFile(endpoints, editor, { today: '2026-01-20', secrets, newSecret });
    expect(result.secrets).toEqual([
      { ods: 'A81001', outcome: 'kept' },
      { ods: 'C83001', outcome: 'generated' },
    ]);
    expect(await secrets.secretOf('practice', 'A81001')).toBe('whsec_already-given');
    expect(await secrets.secretOf('practice', 'C83001')).toBe('whsec_generated');
    // A practice without an endpoint is sent nothing, so it needs no secret.
    expect(await secrets.secretOf('practice', 'A81002')).toBeUndefined();
    const summary = practicesSummaryLines(result, false);
    expect(summary.slice(-2)).toEqual([
      "Generated 1 practice signing secret (give each to the practice's system from the secret store):",
      '  practice/C83001',
    ]);
    expect(summary.join('\n')).not.toContain('whsec_');

    // Without a store none is made, and the summary says what that means.
    const unsigned = await importPracticesFile(endpoints, new InMemoryDirectoryEditor(), {
      today: '2026-01-20',
    });
    expect(unsigned.secrets).toEqual([]);
    expect(practicesSummaryLines(unsigned, false).at(-1)).toBe(
      'No secret store was given (RECIPIENT_SECRETS or --secrets): 2 practices with an endpoint have no signing secret, so the messages back to them are not sent.',
    );
  });

  it('refuses an endpoint the channel policy refuses, naming the line and column; nothing is written', async () => {
    const editor = new InMemoryDirectoryEditor();
    const [header = '', first = ''] = csv.trimEnd().split('\n');
    const file = (url: string) => `${header},Endpoint\n${first},${url}\n`;
    const internal = await importPracticesFile(file('https://10.0.0.7/bars'), editor, {
      today: '2026-01-20',
    });
    expect(internal.problems).toEqual([
      expect.objectContaining({
        path: 'line 2, "Endpoint"',
        rule: expect.stringContaining('must not name a loopback, link-local, private'),
      }),
    ]);
    const cleartext = await importPracticesFile(file('http://gp.example.org/bars'), editor, {
      today: '2026-01-20',
    });
    expect(cleartext.problems).toEqual([
      expect.objectContaining({ path: 'line 2, "Endpoint"', rule: 'must be an https URL' }),
    ]);
    const notUrl = await importPracticesFile(file('gp.example.org'), editor, { today: '2026-01-20' });
    expect(notUrl.problems).toEqual([
      expect.objectContaining({ rule: expect.stringContaining('is not an http(s) URL') }),
    ]);
    expect(await editor.practice('A81001')).toBeUndefined();
    // Locally, plain http to the loopback receiver is allowed.
    const local = await importPracticesFile(file('http://127.0.0.1:3001/hooks/practice/A81001'), editor, {
      today: '2026-01-20',
      channels: 'allow-loopback-http',
    });
    expect(local.problems).toEqual([]);
  });

  it('writes nothing on a dry run, or when a row is bad; an unreadable CSV is one problem', async () => {
    const editor = new InMemoryDirectoryEditor();
    const dry = await importPracticesFile(csv, editor, { today: '2026-01-20', dryRun: true });
    expect(dry.written).toBe(false);
    expect(await editor.practice('A81001')).toBeUndefined();
    const bad = await importPracticesFile(`${csv}A8,,,,,,,,,,,\n`, editor, { today: '2026-01-20' });
    expect(bad.written).toBe(false);
    expect(bad.problems.length).toBeGreaterThan(1);
    expect(await editor.practice('A81001')).toBeUndefined();
    const broken = await importPracticesFile('a,b\n"unclosed,1\n', editor, { today: '2026-01-20' });
    expect(broken.problems).toEqual([
      expect.objectContaining({ rule: expect.stringContaining('not readable as CSV') }),
    ]);
  });
});

describe('report lines and helpers', () => {
  it('counts problems and records', () => {
    expect(
      problemLines(
        [
          { path: 'contents[1].name', rule: 'must not be empty', record: 'service "x"' },
          { path: 'contents[1].status', rule: 'is required' },
          { path: 'contents[4].id', rule: 'duplicate' },
        ],
        'f.json',
      ),
    ).toEqual([
      'f.json has 3 problems in 2 records; nothing was imported:',
      '  contents[1].name: must not be empty  [service "x"]',
      '  contents[1].status: is required',
      '  contents[4].id: duplicate',
    ]);
  });

  it('mapLimit keeps order and never runs more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const results = await mapLimit([5, 1, 4, 2, 3], 2, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, n));
      running--;
      return n * 10;
    });
    expect(results).toEqual([50, 10, 40, 20, 30]);
    expect(most).toBe(2);
  });

  it('mapLimit starts nothing after a failure and waits for what is in flight before throwing', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    const failing = mapLimit([1, 2, 3, 4, 5, 6], 2, async (n) => {
      started.push(n);
      await new Promise((resolve) => setTimeout(resolve, n === 2 ? 1 : 20));
      if (n === 2) throw new Error('two failed');
      finished.push(n);
      return n;
    });
    await expect(failing).rejects.toThrow('two failed');
    expect(started).toEqual([1, 2]);
    expect(finished).toEqual([1]);
  });
});

describe('run (the wiring), before it reaches any table', () => {
  const sampleFile = new URL('../../events/oruk/sample-services.json', import.meta.url).pathname;
  const capture = () => {
    const lines = { out: [] as string[], err: [] as string[] };
    return {
      lines,
      output: { out: (l: string) => lines.out.push(l), err: (l: string) => lines.err.push(l) },
    };
  };
  const request = { command: 'import' as const, dryRun: false, today: '2026-01-20' };

  it("targets the local stack and npm start's secrets file by default; AWS has no default secret store", () => {
    expect(targetOf({ DYNAMODB_PORT: '8123', DATA_DIR: '/data' })).toMatchObject({
      endpoint: 'http://127.0.0.1:8123',
      table: 'directory',
      secrets: 'file:/data/recipient-secrets.json',
    });
    expect(targetOf({ AWS_ENDPOINT_URL_DYNAMODB: '', DIRECTORY_TABLE: 'stack-directory' })).toMatchObject({
      endpoint: '',
      table: 'stack-directory',
      secrets: undefined,
      where: 'table stack-directory at AWS eu-west-2',
    });
    expect(targetOf({ RECIPIENT_SECRETS: 'secretsmanager:s/recipients' }, 'file:/x.json').secrets).toBe(
      'file:/x.json',
    );
  });

  it('refuses a file that is not JSON as one problem, exit 1', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'directory-run-')), 'not.json');
    writeFileSync(file, '{ "contents": [ ');
    const { lines, output } = capture();
    expect(await run({ ...request, file }, { DYNAMODB_PORT: '9' }, output)).toBe(1);
    expect(lines.err[0]).toBe(`${file} has 1 problem in 1 record; nothing was imported:`);
    expect(lines.err[1]).toMatch(/^ {2}\(file\): is not JSON: /);
  });

  it('against AWS, refuses to import without a secret store, and refuses a store it cannot name (exit 2)', async () => {
    const aws = { AWS_ENDPOINT_URL_DYNAMODB: '' };
    let { lines, output } = capture();
    expect(await run({ ...request, file: sampleFile }, aws, output)).toBe(2);
    expect(lines.err.join('\n')).toContain('RECIPIENT_SECRETS=secretsmanager:<stack name>/recipients');
    ({ lines, output } = capture());
    expect(await run({ ...request, file: sampleFile, secrets: 'vault:x' }, aws, output)).toBe(2);
    expect(lines.err.join('\n')).toContain('must be file:<path> or secretsmanager:<prefix>');
    ({ lines, output } = capture());
    expect(await run({ ...request, file: '/no/such/file.json' }, aws, output)).toBe(1);
    expect(lines.err).toEqual(['No such file: /no/such/file.json']);
  });
});
