import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDirectoryEditor } from '#adapters/dynamodb/directory-editor.ts';
import { DynamoPartnerResponses } from '#adapters/dynamodb/partner-responses.ts';
import type { Clock } from '#kernel/clock.ts';
import type { ResponseRecordDeps } from '#reporting/application/recompute-response-records.ts';

/** Where the response-record job works: the Lambda's own clients and names, or an operator's (npm run response-records). */
export interface ResponseRecordWiring {
  documentClient: DynamoDBDocumentClient;
  tables: { metrics: string; directory: string };
  clock: Clock;
}

/** The response-record job's adapters, wired one way for the scheduled function and the operator command alike. */
export function responseRecordDeps(wiring: ResponseRecordWiring): ResponseRecordDeps {
  const { documentClient, tables } = wiring;
  return {
    partners: new DynamoDirectoryEditor(documentClient, tables.directory),
    responses: new DynamoPartnerResponses(documentClient, tables.metrics),
    clock: wiring.clock,
  };
}
