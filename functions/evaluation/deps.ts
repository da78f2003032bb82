import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDirectory } from '#adapters/dynamodb/directory-store.ts';
import { DynamoReceivedReferrals } from '#adapters/dynamodb/received-referrals.ts';
import type { EvaluationDeps } from '#reporting/application/evaluation-extract.ts';
import type { PseudonymKey } from '#reporting/evaluation-ports.ts';

/** The extract's adapters, for the function and the operator's CLI (infra/ops/evaluation-cli.ts) alike. */
export function evaluationDeps(options: {
  documentClient: DynamoDBDocumentClient;
  tables: { referrals: string; directory: string };
  pseudonymKey: PseudonymKey;
}): EvaluationDeps {
  return {
    received: new DynamoReceivedReferrals(options.documentClient, options.tables.referrals),
    directory: new DynamoDirectory(options.documentClient, options.tables.directory),
    pseudonymKey: options.pseudonymKey,
  };
}
