import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startLocalAws, type LocalAws } from '../../infra/local/local-aws.ts';
import { DynamoFigures } from '#adapters/dynamodb/figures.ts';
import { yesterday } from '#reporting/application/detect-surges.ts';
import { notApplicable, unknownValue, type Figure } from '#reporting/domain/figures.ts';
import { addDays, baselineDays } from '#reporting/domain/surge-rule.ts';
import { contextFor } from '../support/local.ts';

// The surge job on local DynamoDB (dynalite), run as an operator runs it (npm run surges, a child process) and as
// the schedule runs it (the function's handler). Nine weeks of needs figures are written through the real adapter:
// physical activity in LS6 at 2 a week on yesterday's weekday, then 12 yesterday (a surge); in LS7 at 6 a week, then
// 9 (normal); arts in LS6 at 1 a week, then 3 (below the minimum). The surge row is recorded once; a second run
// adds nothing.

const root = fileURLToPath(new URL('../../', import.meta.url));
const day = yesterday(new Date());

let aws: LocalAws;
let figures: DynamoFigures;

function need(onDay: string, category: string, area: string, practice: string): Figure {
  const figure: Figure<'needs'> = {
    family: 'needs',
    day: onDay,
    dimensions: {
      category,
      outcome: 'matched',
      reason: notApplicable,
      practice,
      pcn: unknownValue,
      area,
      localAuthority: unknownValue,
      imd: '2019:4',
    },
  };
  // As the routing writes it; `as Figure` because Figure's default is not a union of the families' shapes.
  return figure as Figure;
}

/** `count` needs on `onDay`, from two practices in turn (two cells the job must add up). */
async function seed(onDay: string, category: string, area: string, count: number): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      figures.recordOnce(
        [need(onDay, category, area, i % 2 === 0 ? 'B82005' : 'B82099')],
        `it-${onDay}-${category}-${area}-${i}#${category}`,
      ),
    ),
  );
}

function surgesCli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/ops/surges-cli.ts', ...args], {
      cwd: root,
      env: {
        ...process.env,
        AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoDbEndpoint,
        METRICS_TABLE: aws.tables.metrics,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  aws = await startLocalAws();
  figures = new DynamoFigures(aws.documentClient, aws.tables.metrics);
  for (const week of baselineDays(day)) {
    await seed(week, 'physical-activity', 'LS6', 2);
    await seed(week, 'physical-activity', 'LS7', 6);
    await seed(week, 'arts', 'LS6', 1);
  }
  // Busy on other weekdays and nine weeks back: outside the baseline, so never read into it.
  await seed(addDays(day, -1), 'physical-activity', 'LS6', 20);
  await seed(addDays(day, -63), 'physical-activity', 'LS6', 20);
  await seed(day, 'physical-activity', 'LS6', 12);
  await seed(day, 'physical-activity', 'LS7', 9);
  await seed(day, 'arts', 'LS6', 3);
});
afterAll(() => aws?.stop());

describe('the surge job on local DynamoDB', () => {
  it('a dry run names the surge and records nothing', async () => {
    const dry = await surgesCli('--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`Surges on ${day}`);
    expect(dry.stdout).toMatch(/would-record\s+physical-activity in LS6: 12 needs, expected 2, threshold 8/);
    expect(dry.stdout).toContain('3 category x area pairs compared');
    expect(await figures.cells('surges', day, day)).toEqual([]);
  });

  it('records the surge once (a second run adds nothing) and flags neither the normal area nor the quiet one', async () => {
    const first = await surgesCli();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/recorded\s+physical-activity in LS6: 12 needs/);
    expect(first.stdout).not.toContain('LS7');
    expect(first.stdout).not.toContain('arts');
    expect(first.stdout).toContain('1 surges: 1 recorded, 0 already recorded');

    const second = await surgesCli('--day', day);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('1 surges: 0 recorded, 1 already recorded');

    expect(await figures.cells('surges', day, day)).toEqual([
      {
        family: 'surges',
        day,
        dimensions: {
          category: 'physical-activity',
          area: 'LS6',
          observed: '12',
          expected: '2',
          threshold: '8',
        },
        count: 1,
      },
    ]);
  });

  it('the scheduled function adds no row either, and emits SurgesFound: the total and per category', async () => {
    // The local stack turns EMF off (startLocalAws); on here, as in Lambda, to read what CloudWatch would get.
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const written: string[] = [];
    const capture = (chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    };
    // EMF goes to stdout; the logger's warnings to stderr.
    const spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation(capture),
      vi.spyOn(process.stderr, 'write').mockImplementation(capture),
    ];
    let summary: unknown;
    try {
      const { handler } = (await import('../../functions/surges/handler.ts')) as {
        handler: (event: unknown, context: unknown) => Promise<unknown>;
      };
      summary = await handler({ schedule: 'surges' }, contextFor('surges'));
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    expect(summary).toMatchObject({ day, recorded: 0, alreadyRecorded: 1, found: 1 });
    expect(await figures.cells('surges', day, day)).toHaveLength(1);

    const lines = written.flatMap((chunk) => chunk.split('\n')).filter((line) => line.startsWith('{'));
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const emf = records.filter((record) => record.SurgesFound !== undefined);
    expect(emf.map(({ SurgesFound, category }) => ({ SurgesFound, category }))).toEqual(
      expect.arrayContaining([
        { SurgesFound: 1, category: undefined },
        { SurgesFound: 1, category: 'physical-activity' },
      ]),
    );
    for (const record of emf) {
      expect(record).toMatchObject({ service: 'social-prescribing-referrals' });
      expect(record).not.toHaveProperty('area');
      const [{ Namespace, Dimensions, Metrics }] = (
        record._aws as {
          CloudWatchMetrics: [{ Namespace: string; Dimensions: string[][]; Metrics: unknown[] }];
        }
      ).CloudWatchMetrics;
      expect(Namespace).toBe('SocialPrescribing');
      expect(Metrics).toContainEqual({ Name: 'SurgesFound', Unit: 'Count' });
      // The category's count carries `category` beside the function's own dimensions; the total does not.
      expect(Dimensions[0]?.includes('category')).toBe(record.category !== undefined);
      expect(Dimensions[0]).toContain('service');
    }
    // One log line per surge, naming the category and area (a postcode district), never a patient.
    expect(records.filter((record) => record.message === 'surge found')).toEqual([
      expect.objectContaining({ category: 'physical-activity', area: 'LS6', observed: 12, threshold: 8 }),
    ]);
  });
});
