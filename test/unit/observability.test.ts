import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as Observability from '#platform/observability.ts';

// The dimension sets the EMF records carry are the ones infra/constructs/monitoring.ts and dashboard.ts name: in
// CloudWatch a metric with another set is another metric, and an alarm on the wrong set never fires.

let observability: typeof Observability;

beforeAll(async () => {
  vi.stubEnv('SYSTEM_FUNCTION_NAME', 'router'); // as functionEnvironment gives it
  vi.resetModules();
  observability = (await import('#platform/observability.ts')) as typeof Observability;
});
afterEach(() => vi.restoreAllMocks());

/** The EMF records written to stdout while `act` runs. */
function emfWrittenBy(
  act: () => void,
): Array<Record<string, unknown> & { _aws: { CloudWatchMetrics: unknown[] } }> {
  const written: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  act();
  vi.restoreAllMocks();
  return written
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: unknown[] } });
}

describe('observability', () => {
  it("every metric carries service and the function's name in the system description", () => {
    const { metrics, emittingFunction } = observability;
    expect(emittingFunction).toBe('router');
    const [record] = emfWrittenBy(() => {
      metrics.addMetric('ReferralsRouted', 'Count', 1);
      metrics.publishStoredMetrics();
    });
    expect(record).toMatchObject({
      service: 'social-prescribing-referrals',
      function: 'router',
      ReferralsRouted: 1,
    });
    expect(record?._aws.CloudWatchMetrics).toEqual([
      expect.objectContaining({ Namespace: 'SocialPrescribing', Dimensions: [['service', 'function']] }),
    ]);
  });

  it('countBy emits at once a breakdown with its own dimensions added to those two', () => {
    const records = emfWrittenBy(() =>
      observability.countBy('UnmetNeedsByCategory', { category: 'housing-advice' }),
    );
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      service: 'social-prescribing-referrals',
      function: 'router',
      category: 'housing-advice',
      UnmetNeedsByCategory: 1,
    });
    const [directive] = records[0]?._aws.CloudWatchMetrics as Array<{ Dimensions: string[][] }>;
    expect(directive?.Dimensions.map((set) => [...set].sort())).toEqual([
      ['category', 'function', 'service'],
    ]);
  });
});
