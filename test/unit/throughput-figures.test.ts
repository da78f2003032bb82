import { describe, expect, it } from 'vitest';
import {
  cpuMsPerReferral,
  dynamoDbCeiling,
  overheadRatio,
  requestMix,
  sameCalls,
  serverShares,
  windowFigures,
} from '../../bench/throughput-figures.ts';

// The throughput bench's arithmetic (bench/throughput-figures.ts): what counts inside a level's window, and shares.

describe('windowFigures', () => {
  const window = { from: 1_000, to: 11_000 };

  it('counts deliveries inside the window as throughput, and latencies of referrals posted inside it', () => {
    const figures = windowFigures(
      [
        // Posted in the ramp-up, delivered inside the window: throughput yes, latency no.
        { postedAt: 500, intakeMs: 50, deliveredAt: 1_500 },
        { postedAt: 2_000, intakeMs: 20, deliveredAt: 3_000, firstWebhookAt: 2_500 },
        { postedAt: 4_000, intakeMs: 40, deliveredAt: 7_000, firstWebhookAt: 6_900 },
        // Posted inside, delivered after the window: latency yes, throughput no.
        { postedAt: 10_500, intakeMs: 30, deliveredAt: 12_500 },
      ],
      window,
    );
    expect(figures.delivered).toBe(3);
    expect(figures.deliveredPerSec).toBeCloseTo(0.3);
    expect(figures.postedInWindow).toBe(3);
    expect(figures.postToDeliveredMs.p50).toBe(2_000);
    expect(figures.postToDeliveredMs.max).toBe(3_000);
    expect(figures.intakeMs.max).toBe(40);
    expect(figures.postToFirstWebhookMs.min).toBe(500);
    expect(figures.postToFirstWebhookMs.max).toBe(2_900);
    expect(figures.incomplete).toBe(0);
  });

  it('counts a referral posted inside the window and never delivered as incomplete, not as a latency', () => {
    const figures = windowFigures(
      [
        { postedAt: 2_000, intakeMs: 20 },
        { postedAt: 3_000, intakeMs: 20, deliveredAt: 3_400 },
      ],
      window,
    );
    expect(figures.incomplete).toBe(1);
    expect(figures.postToDeliveredMs.max).toBe(400);
  });

  it('reports no latency (NaN) and no throughput for an empty level', () => {
    const figures = windowFigures([], window);
    expect(figures.deliveredPerSec).toBe(0);
    expect(figures.postToDeliveredMs.p95).toBeNaN();
  });
});

describe('requestMix and serverShares', () => {
  it('splits the servers’ counts into DynamoDB writes, reads, other and SQS', () => {
    const mix = requestMix({
      'DynamoDB.PutItem': 10,
      'DynamoDB.UpdateItem': 5,
      'DynamoDB.GetItem': 4,
      'DynamoDB.Query': 6,
      'DynamoDB.DescribeTable': 1,
      'AmazonSQS.SendMessageBatch': 2,
      'AmazonSQS.ReceiveMessage': 3,
    });
    expect(mix).toEqual({ dynamoDbWrites: 15, dynamoDbReads: 10, dynamoDbOther: 1, sqs: 5 });
  });

  it('adds the write and read shares of the DynamoDB server’s raw rates', () => {
    const shares = serverShares(
      { dynamoDbWrites: 200, dynamoDbReads: 300, dynamoDbOther: 0, sqs: 50 },
      { dynamoDbPutItemPerSec: 800, dynamoDbGetItemPerSec: 1_200, sqsRequestsPerSec: 1_000 },
    );
    expect(shares.dynamoDbWrites).toBeCloseTo(0.25);
    expect(shares.dynamoDbReads).toBeCloseTo(0.25);
    expect(shares.dynamoDb).toBeCloseTo(0.5);
    expect(shares.sqs).toBeCloseTo(0.05);
  });

  it('gives NaN, not Infinity, when a raw rate could not be measured', () => {
    const shares = serverShares(
      { dynamoDbWrites: 1, dynamoDbReads: 1, dynamoDbOther: 0, sqs: 1 },
      { dynamoDbPutItemPerSec: 0, dynamoDbGetItemPerSec: 1, sqsRequestsPerSec: 0 },
    );
    expect(shares.sqs).toBeNaN();
  });
});

describe('dynamoDbCeiling', () => {
  it('is one second of the server over the time a referral’s writes and reads take at the raw rates', () => {
    // 30 writes at 1,500/s (20 ms) and 20 reads at 2,000/s (10 ms): 30 ms a referral, 33 referrals/s.
    const ceiling = dynamoDbCeiling(
      { dynamoDbWrites: 30, dynamoDbReads: 20, dynamoDbOther: 0, sqs: 4 },
      { dynamoDbPutItemPerSec: 1_500, dynamoDbGetItemPerSec: 2_000, sqsRequestsPerSec: 1_000 },
    );
    expect(ceiling).toBeCloseTo(1000 / 30);
  });
});

describe('cpuMsPerReferral', () => {
  it('turns CPU percent and referrals per second into CPU ms per referral', () => {
    // 150% is 1,500 ms of CPU each second; at 25 referrals/s, 60 ms each.
    expect(cpuMsPerReferral({ cpuPercent: 150 }, 25)).toBeCloseTo(60);
    expect(cpuMsPerReferral({ cpuPercent: 150 }, 0)).toBeNaN();
  });
});

describe('overheadRatio and sameCalls', () => {
  it('divides the wall time per request of the full handler by the minimal one’s', () => {
    expect(overheadRatio({ requests: 100, wallMs: 2_600 }, { requests: 200, wallMs: 4_000 })).toBeCloseTo(
      1.3,
    );
    expect(overheadRatio({ requests: 0, wallMs: 0 }, { requests: 1, wallMs: 1 })).toBeNaN();
  });

  it('names each operation whose calls per request differ by more than a tenth', () => {
    expect(sameCalls({ 'DynamoDB.PutItem': 2, 'DynamoDB.GetItem': 1 }, { 'DynamoDB.PutItem': 2.05 })).toEqual(
      ['DynamoDB.GetItem: full 1.00, minimal 0.00 per request'],
    );
  });
});

describe('groupOf (the intake profile’s groups)', () => {
  it('names npm packages, the SDK as one, Node’s own modules by area and the project by top folder', async () => {
    const { groupOf } = await import('../../bench/intake-profile.ts');
    const root = new URL('../../', import.meta.url).href;
    expect(groupOf('file:///x/node_modules/zod/v4/core/parse.js', 'parse')).toBe('zod');
    expect(groupOf('file:///x/node_modules/@smithy/core/dist/index.js', 'f')).toBe('aws sdk');
    expect(groupOf('file:///x/node_modules/@aws-sdk/client-sqs/dist/index.js', 'f')).toBe('aws sdk');
    expect(groupOf('file:///x/node_modules/@middy/core/index.js', 'f')).toBe('@middy/core');
    expect(groupOf('node:_http_server', 'f')).toBe('node http');
    expect(groupOf('node:internal/streams/readable', 'f')).toBe('node streams');
    expect(groupOf(`${root}shared/audit/domain/chain.ts`, 'f')).toBe('shared');
    expect(groupOf('', '(garbage collector)')).toBe('(garbage collector)');
  });
});

describe('thread CPU from /proc (bench/thread-cpu.ts)', () => {
  it('reads the name and utime + stime of a stat line, whatever the name holds', async () => {
    const { parseStat } = await import('../../bench/thread-cpu.ts');
    const line = '4242 (local-router) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0';
    expect(parseStat(line)).toEqual({ name: 'local-router', ticks: 300 });
    expect(parseStat('4243 (V8 (odd) name) R 1 2 3 4 5 6 7 8 9 10 7 3 0')).toEqual({
      name: 'V8 (odd) name',
      ticks: 10,
    });
    expect(parseStat('garbage')).toBeUndefined();
  });

  it('turns tick deltas into CPU % per thread name, busiest first, dropping those under 1%', async () => {
    const { threadCpuPercent } = await import('../../bench/thread-cpu.ts');
    const before = new Map([
      ['MainThread', 100],
      ['local-router', 50],
      ['idle', 10],
    ]);
    const after = new Map([
      ['MainThread', 250],
      ['local-router', 250],
      ['idle', 10],
    ]);
    // 2 s of wall time at 100 ticks a second: 150 ticks is 75% of a core, 200 ticks 100%.
    expect(threadCpuPercent(before, after, 2_000)).toEqual({ 'local-router': 100, MainThread: 75 });
  });
});
