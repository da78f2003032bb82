import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoFigures } from '#adapters/dynamodb/figures.ts';
import type { Clock } from '#kernel/clock.ts';
import type { DetectSurgesDeps } from '#reporting/application/detect-surges.ts';

/** Where the surge job works: the Lambda's own clients and names, or an operator's (npm run surges). */
export interface SurgeWiring {
  documentClient: DynamoDBDocumentClient;
  tables: { metrics: string };
  clock: Clock;
}

/** The surge job's adapters, wired one way for the scheduled function and the operator command alike. */
export function surgeDeps(wiring: SurgeWiring): DetectSurgesDeps {
  return { figures: new DynamoFigures(wiring.documentClient, wiring.tables.metrics), clock: wiring.clock };
}
