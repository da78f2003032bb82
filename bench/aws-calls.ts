import diagnosticsChannel from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

/**
 * Counts the AWS API calls the functions make, by operation (DynamoDB_20120810.PutItem, AmazonSQS.SendMessage...).
 * The SDK sends each call over node:http with an X-Amz-Target header, so Node's own diagnostics channel sees every
 * one without touching the code under test. Calls per referral explain the throughput better than any profiler:
 * each is a loopback round trip to dynalite or fauxqs, both running on this same event loop.
 */

const channel = 'http.client.request.start';

export type CallCounts = Record<string, number>;

export class AwsCallCounter {
  private readonly counts = new Map<string, number>();

  private readonly onRequest = (message: unknown): void => {
    const target = (message as { request: ClientRequest }).request.getHeader('x-amz-target');
    if (typeof target !== 'string') return;
    const operation = target.replace(/^DynamoDB_\d+\./, 'DynamoDB.');
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  };

  start(): void {
    diagnosticsChannel.subscribe(channel, this.onRequest);
  }

  stop(): void {
    diagnosticsChannel.unsubscribe(channel, this.onRequest);
  }

  snapshot(): CallCounts {
    return Object.fromEntries(this.counts);
  }

  /** Calls made since an earlier snapshot, busiest operation first. */
  since(earlier: CallCounts): CallCounts {
    const delta = [...this.counts]
      .map(([operation, count]) => [operation, count - (earlier[operation] ?? 0)] as const)
      .filter(([, count]) => count > 0)
      .sort((a, b) => b[1] - a[1]);
    return Object.fromEntries(delta);
  }
}

export const totalCalls = (counts: CallCounts, prefix: string): number =>
  Object.entries(counts)
    .filter(([operation]) => operation.startsWith(prefix))
    .reduce((sum, [, count]) => sum + count, 0);
