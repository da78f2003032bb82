/**
 * AWS API calls per scenario, by operation (DynamoDB.PutItem, AmazonSQS.SendMessageBatch...), read from the local
 * DynamoDB and SQS servers (LocalAws.requestCounts), where every caller's requests arrive: the functions, each in
 * its own worker thread with its own SDK clients, the pollers and the bench itself. An SDK-side count in the bench's
 * process would see only the last two. Calls per referral explain the throughput better than any profiler: each is
 * a loopback round trip to dynalite or fauxqs.
 */

export type CallCounts = Record<string, number>;

/** The API version in DynamoDB's target says nothing about cost, and would make every key longer in the report. */
const operationName = (target: string): string => target.replace(/^DynamoDB_\d+\./, 'DynamoDB.');

/** Calls made between two snapshots of the servers' counts, busiest operation first. */
export function callsBetween(earlier: CallCounts, later: CallCounts): CallCounts {
  const delta = new Map<string, number>();
  for (const [target, count] of Object.entries(later)) {
    const made = count - (earlier[target] ?? 0);
    if (made > 0) delta.set(operationName(target), (delta.get(operationName(target)) ?? 0) + made);
  }
  return Object.fromEntries([...delta].sort((a, b) => b[1] - a[1]));
}

export const totalCalls = (counts: CallCounts, prefix: string): number =>
  Object.entries(counts)
    .filter(([operation]) => operation.startsWith(prefix))
    .reduce((sum, [, count]) => sum + count, 0);
