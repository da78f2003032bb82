import { randomUUID } from 'node:crypto';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { documentClient, sqs } from '#platform/clients.ts';
import { queueUrl, tableName } from '#platform/config.ts';

/**
 * The intake overhead bench's baseline (bench/intake-overhead.ts): a handler for POST /referrals that makes the same
 * DynamoDB and SQS requests as the real intake (functions/intake/json-route.ts through submitReferral), with items of
 * about the same size, and nothing else: no middy, no Powertools logger or metrics, no zod, no rules, no audit hash,
 * no error mapping. Same SDK clients (shared/platform/clients.ts), same tables and queue, same worker sandbox.
 *
 * The calls, in order: the practice (GetItem), the referral (conditional PutItem), the audit chain's first link
 * (conditional PutItem: a new referral's chain is not read first), the routing message (SendMessageBatch). The bench compares the servers'
 * counts per request for both handlers and reports any difference, so a change to intake's calls shows here.
 */

const referrals = tableName('referrals');
const directory = tableName('directory');
const audit = tableName('audit');
const routingQueue = queueUrl('referrals');
const hashLike = 'a'.repeat(64);

interface Body {
  practiceOds?: string;
  needs?: unknown;
}

export async function handler(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const body = JSON.parse(event.body ?? '{}') as Body & Record<string, unknown>;
  const referralId = randomUUID();
  const receivedAt = new Date().toISOString();
  await documentClient.send(
    new GetCommand({
      TableName: directory,
      Key: { pk: `PRACTICE#${body.practiceOds ?? ''}`, sk: 'PROFILE' },
    }),
  );
  await documentClient.send(
    new PutCommand({
      TableName: referrals,
      Item: {
        ...body,
        referralId,
        sk: 'referral',
        status: 'received',
        receivedAt,
        updatedAt: receivedAt,
        version: 1,
        source: { channel: 'json' },
        requestFingerprint: hashLike,
        receivedMonth: receivedAt.slice(0, 7),
      },
      ConditionExpression: 'attribute_not_exists(referralId)',
    }),
  );
  await documentClient.send(
    new PutCommand({
      TableName: audit,
      Item: {
        referralId,
        seq: '0000000001',
        eventKey: `received.${receivedAt}`,
        action: 'referral.received',
        actor: `practice:${body.practiceOds ?? ''}`,
        at: receivedAt,
        detail: { needs: body.needs, channel: 'json' },
        who: 'gp-system:bench-gp-system',
        prevHash: hashLike,
        hash: hashLike,
      },
      ConditionExpression: 'attribute_not_exists(seq)',
    }),
  );
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: routingQueue,
      Entries: [{ Id: 'm0', MessageBody: JSON.stringify({ referralId }) }],
    }),
  );
  return {
    statusCode: 202,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ referralId, status: 'received', receivedAt }),
  };
}
