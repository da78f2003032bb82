import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaseWork, syntheticNhsNumber, type TokenClaims } from '../../infra/local/demo-case-work.ts';
import type { ReferralStatusView } from '#referral/application/referral-status.ts';
import { anyFreePorts, eventually, sampleReferral } from '../support/local.ts';
import { reportNames } from '#reporting/domain/report-shape.ts';

// Issue 11 item 3 (clinical-safety hazard H8, docs/clinical-safety.md): every line the local stack writes while
// known synthetic patients go through every flow (intake over JSON and FHIR, refusals, routing, delivery, partners'
// answers, case work, messages back to the practice, outcomes, cancellation, reports, the evaluation extract) is
// read, and none may carry any of their identifiers in any of the spellings a log could hold them.
// `npm start -- --verbose` in its own process: the functions run in worker threads and their INFO logs reach the
// stack's own output, so reading the process's stdout and stderr reads every function's log lines.

const projectRoot = new URL('../../', import.meta.url).pathname;

interface Patient {
  nhsNumber: string;
  given: string;
  family: string;
  birthDate: string;
  postcode: string;
  phone: string;
  email: string;
}

// Distinctive names, so a hit can only be the patient; NHS numbers in the 999 range (never issued), far from the
// demo's own (which start at syntheticNhsNumber(0)).
const patients: Patient[] = [
  {
    nhsNumber: syntheticNhsNumber(701),
    given: 'Quillonia',
    family: 'Brackenthwaite',
    birthDate: '1958-11-23',
    postcode: 'LS6 3HN',
    phone: '0113 496 0777',
    email: 'Quillonia.Brackenthwaite@Example.org',
  },
  {
    nhsNumber: syntheticNhsNumber(702),
    given: 'Ottoline',
    family: 'Fernsworthy',
    birthDate: '1983-02-07',
    postcode: 'FY1 4AB',
    phone: '07700 900 778',
    email: 'Ottoline.Fernsworthy@Example.net',
  },
  {
    nhsNumber: syntheticNhsNumber(703),
    given: 'Barnaby',
    family: 'Thistlewood',
    birthDate: '1947-06-30',
    postcode: 'TN34 1AA',
    phone: '01424 496 779',
    email: 'Barnaby.Thistlewood@Example.com',
  },
];
const practiceOf = ['A81001', 'B82001', 'C83001'];

/** Every spelling of a patient's identifiers a log line could hold: as sent, without spaces, spaced, lower case. */
function spellings(patient: Patient): string[] {
  const n = patient.nhsNumber;
  const bare = (text: string) => text.replace(/\s+/g, '');
  return [
    n,
    `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`,
    `${n.slice(0, 3)}-${n.slice(3, 6)}-${n.slice(6)}`,
    patient.given,
    patient.family,
    `${patient.given} ${patient.family}`,
    patient.birthDate,
    bare(patient.birthDate.replaceAll('-', '')),
    patient.postcode,
    bare(patient.postcode),
    patient.phone,
    bare(patient.phone),
    patient.email,
    patient.email.toLowerCase(),
  ];
}

/** The FHIR sample patient (events/fhir/new-referral.json and cancel.json), sent through $process-message. */
const fhirPatient: Patient = {
  nhsNumber: '9995260182',
  given: 'Alex',
  family: 'Testpatient',
  birthDate: '1961-04-12',
  postcode: 'LS6 1AA',
  phone: '0113 496 0001',
  email: 'alex.testpatient@example.org',
};

interface RunningStack {
  child: ChildProcess;
  apiUrl: string;
  issuerUrl: string;
  output: () => string;
}

async function start(): Promise<RunningStack> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'infra/local/start.ts', '--in-memory', '--verbose'],
    {
      cwd: projectRoot,
      env: { ...process.env, ...anyFreePorts },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const ready = await eventually(
    async () => /Ready: API (\S+) .*token issuer (\S+?)\)/.exec(output) ?? undefined,
    () => `the ready line; output so far:\n${output}`,
    60_000,
  );
  return { child, apiUrl: ready[1] ?? '', issuerUrl: ready[2] ?? '', output: () => output };
}

let stack: RunningStack | undefined;
afterAll(() => {
  if (stack?.child.exitCode === null) stack.child.kill('SIGKILL');
});

async function mint(claims: TokenClaims): Promise<string> {
  const response = await fetch(`${stack?.issuerUrl}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(claims),
  });
  return ((await response.json()) as { token: string }).token;
}

async function call(
  token: string,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${stack?.apiUrl}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${token}`,
      'X-Request-ID': crypto.randomUUID(),
      'X-Correlation-ID': crypto.randomUUID(),
      ...(body === undefined ? {} : { 'Content-Type': contentType }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, text: await response.text() };
}

const fhirEvent = (name: string): string =>
  readFileSync(new URL(`../../events/fhir/${name}`, import.meta.url), 'utf8');

/** Monday and Sunday of this ISO week (UTC): the evaluation extract covers whole weeks only. */
function thisIsoWeek(): { monday: string; sunday: string } {
  const today = new Date(new Date().toISOString().slice(0, 10) + 'T00:00:00Z');
  const sinceMonday = (today.getUTCDay() + 6) % 7;
  const day = (offset: number) =>
    new Date(today.getTime() + (offset - sinceMonday) * 86_400_000).toISOString().slice(0, 10);
  return { monday: day(0), sunday: day(6) };
}

describe('log scan for patient identifiers', () => {
  it('finds none of the synthetic patients in any line the local stack writes through every flow', async () => {
    stack = await start();
    const gp = await mint({ role: 'gp-system', ods: practiceOf, subject: 'log-scan-gp' });

    // Intake over JSON, one patient per area (three teams, their partners, practice messages back).
    const referralIds: string[] = [];
    for (const [i, patient] of patients.entries()) {
      const body = sampleReferral('leeds-arts-and-mental-health') as Record<string, unknown>;
      body.practiceOds = practiceOf[i];
      body.needs = [['arts', 'mental-health'], ['benefits-advice', 'physical-activity'], ['befriending']][i];
      body.patient = {
        nhsNumber: patient.nhsNumber,
        nhsNumberVerification: 'verified',
        name: { given: patient.given, family: patient.family },
        birthDate: patient.birthDate,
        gender: 'female',
        contact: { phone: patient.phone, email: patient.email, preferred: 'phone' },
        postcode: patient.postcode,
      };
      const answer = await call(gp, 'POST', '/referrals', body);
      expect(answer.status, answer.text).toBe(202);
      referralIds.push((JSON.parse(answer.text) as { referralId: string }).referralId);

      // Refusals carrying the same patient: a validation error must not echo the values it read.
      const wrong = structuredClone(body) as { patient: Record<string, unknown> };
      wrong.patient.gender = patient.given;
      wrong.patient.birthDate = `${patient.birthDate}T99`;
      expect((await call(gp, 'POST', '/referrals', wrong)).status).toBe(400);
      const badNumber = structuredClone(body) as { patient: Record<string, unknown> };
      badNumber.patient.nhsNumber = `${patient.nhsNumber.slice(0, 9)}${(Number(patient.nhsNumber[9]) + 1) % 10}`;
      expect((await call(gp, 'POST', '/referrals', badNumber)).status).toBe(400);
    }

    // Intake over FHIR: the BaRS sample (safeguarding flag, reasonable adjustment), then its cancellation, and a
    // refused Bundle (an unverified number).
    const conversation = { 'X-Correlation-ID': crypto.randomUUID() };
    const fhir = await call(
      gp,
      'POST',
      '/$process-message',
      fhirEvent('new-referral.json'),
      'application/fhir+json',
      conversation,
    );
    expect(fhir.status, fhir.text).toBe(200);
    const unverified = await call(
      gp,
      'POST',
      '/$process-message',
      fhirEvent('invalid/unverified-nhs-number.json'),
      'application/fhir+json',
    );
    expect(unverified.status).toBe(400);

    // Routed and delivered to every recipient before the case work starts.
    for (const referralId of referralIds)
      await eventually(async () => {
        const view = JSON.parse(
          (await call(gp, 'GET', `/referrals/${referralId}`)).text,
        ) as ReferralStatusView;
        return view.status === 'routed' && view.deliveries.every((d) => d.status === 'delivered')
          ? view
          : undefined;
      }, `referral ${referralId} to be routed and delivered`);
    // The cancellation names the ServiceRequest id the acknowledgement assigned.
    const acknowledged = JSON.parse(fhir.text) as {
      entry?: Array<{ resource?: { resourceType?: string; id?: string } }>;
    };
    const serviceRequestId = acknowledged.entry?.find((e) => e.resource?.resourceType === 'ServiceRequest')
      ?.resource?.id;
    expect(serviceRequestId).toBeDefined();
    const cancelBody = fhirEvent('cancel.json').replaceAll(
      '7d9f3b2a-1111-4c3d-8e5f-000000000001',
      serviceRequestId ?? '',
    );
    const cancel = await call(
      gp,
      'POST',
      '/$process-message',
      cancelBody,
      'application/fhir+json',
      conversation,
    );
    expect(cancel.status, cancel.text).toBe(200);

    // Case work on our patients: each team accepts, contacts, starts, records outcomes and closes; partners answer.
    for (const referralId of referralIds) {
      const view = JSON.parse((await call(gp, 'GET', `/referrals/${referralId}`)).text) as ReferralStatusView;
      const team = await mint({ role: 'link-worker', team: view.team?.id ?? '', subject: 'log-scan-worker' });
      let version = (
        JSON.parse((await call(team, 'GET', `/team/referrals/${referralId}`)).text) as { version: number }
      ).version;
      const step = async (action: string, extra: Record<string, unknown> = {}) => {
        const answer = await call(team, 'POST', `/team/referrals/${referralId}/${action}`, {
          version,
          ...extra,
        });
        expect(answer.status, `${action}: ${answer.text}`).toBe(200);
        version = (JSON.parse(answer.text) as { version: number }).version;
      };
      await step('accept');
      await step('contact', { outcome: 'made', channel: 'phone' });
      await step('start');
      const outcome = await call(team, 'POST', `/team/referrals/${referralId}/outcomes`, {
        id: crypto.randomUUID(),
        timepoint: 'baseline',
        takenOn: new Date().toISOString().slice(0, 10),
        ons4: { lifeSatisfaction: 3, worthwhile: 4, happiness: 3, anxiety: 7 },
        ucla3: { lackCompanionship: 3, leftOut: 3, isolated: 3 },
        lonelinessDirect: 'often-always',
      });
      expect(outcome.status, outcome.text).toBe(201);
      await step('close', { reason: 'completed' });
      for (const partner of view.partners) {
        const token = await mint({
          role: 'partner',
          partner: partner.partnerId,
          subject: 'log-scan-partner',
        });
        const offers = JSON.parse((await call(token, 'GET', '/partner/offers?limit=100')).text) as {
          items: Array<{ offerId: string; referralId: string; version: number; status: string }>;
        };
        for (const offer of offers.items.filter(
          (o) => o.referralId === referralId && o.status === 'offered',
        )) {
          const read = await call(token, 'GET', `/partner/offers/${encodeURIComponent(offer.offerId)}`);
          expect(read.status, read.text).toBe(200);
          await call(token, 'POST', `/partner/offers/${encodeURIComponent(offer.offerId)}/accept`, {
            version: offer.version,
            state: 'offered',
          });
        }
      }
    }

    // The demo's case work on a few dozen more (partners declining, teams declining, re-reads), whose NHS numbers
    // and phone numbers are scanned for too.
    const summary = await runCaseWork({ apiUrl: stack.apiUrl, mint });

    // Reports and the evaluation extract (refused or not, its function runs and logs).
    const ops = await mint({ role: 'ops', subject: 'log-scan-ops' });
    const commissioner = await mint({ role: 'commissioner', subject: 'log-scan-commissioner' });
    const today = new Date().toISOString().slice(0, 10);
    const monthStart = `${today.slice(0, 8)}01`;
    // Every report in the catalogue, so one added later is scanned too.
    for (const report of reportNames)
      for (const token of [ops, commissioner])
        expect((await call(token, 'GET', `/reports/${report}?from=${monthStart}&to=${today}`)).status).toBe(
          200,
        );
    const { monday, sunday } = thisIsoWeek();
    expect((await call(ops, 'GET', `/evaluation/extract?from=${monday}&to=${sunday}`)).status).toBeLessThan(
      500,
    );

    // Let the practice messages and last notices go out, then stop the stack so every line has been written.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const exited = new Promise<number | null>((resolve) =>
      stack?.child.once('exit', (code) => resolve(code)),
    );
    stack.child.kill('SIGINT');
    expect(await exited).toBe(0);

    const lines = stack.output().split('\n');
    // The scan reads the functions' own lines, or it proves nothing.
    expect(stack.output()).toContain('"message":"Referral routed"');
    const demoIdentifiers = Array.from({ length: summary.referrals }, (_, n) => {
      const nhs = syntheticNhsNumber(n);
      return [
        nhs,
        `${nhs.slice(0, 3)} ${nhs.slice(3, 6)} ${nhs.slice(6)}`,
        `0113 496 ${1000 + n}`,
        `01134961${String(n).padStart(3, '0')}`,
      ];
    }).flat();
    const needles = [
      ...new Set([...patients.flatMap(spellings), ...spellings(fhirPatient), ...demoIdentifiers]),
    ].map((needle) => needle.toLowerCase());
    const hits = lines.flatMap((line, i) =>
      needles
        .filter((needle) => line.toLowerCase().includes(needle))
        .map((needle) => `line ${i + 1}: ${needle}`),
    );
    console.log(
      `log scan: ${lines.length} lines (${lines.filter((l) => l.startsWith('{') || l.includes('{"level"')).length} JSON log lines) scanned for ${needles.length} identifier spellings of ${patients.length + 1 + summary.referrals} patients; ${hits.length} found`,
    );
    expect(hits, hits.slice(0, 20).join('\n')).toEqual([]);
  });
});
