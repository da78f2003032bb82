import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { accountRequests } from '#platform/request-accounting.ts';
import { traceRequests } from '#platform/tracing.ts';

/**
 * SDK clients, created once per execution environment (module load) and reused by every invocation.
 * Endpoints come from the standard AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS variables, which the local
 * runtime sets to its loopback servers; in AWS they are unset and the regional endpoints apply. Every request they
 * make is counted in the invocation's tally (request-accounting.ts) and, in AWS, traced as an X-Ray subsegment
 * (tracing.ts).
 */
export const dynamoDb = traceRequests(accountRequests(new DynamoDBClient({}), 'DynamoDB'), 'DynamoDB');
export const documentClient = DynamoDBDocumentClient.from(dynamoDb, {
  marshallOptions: { removeUndefinedValues: true },
});
export const sqs = traceRequests(accountRequests(new SQSClient({}), 'SQS'), 'SQS');
