import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * Where an operator command's DynamoDB is: the local stack's by default (DYNAMODB_PORT, 8000, as `npm start`), any
 * endpoint AWS_ENDPOINT_URL_DYNAMODB names, and AWS itself when it is set to ''.
 */
export function dynamoEndpointFromEnvironment(env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_ENDPOINT_URL_DYNAMODB ?? `http://127.0.0.1:${env.DYNAMODB_PORT ?? '8000'}`;
}

/**
 * A document client for that endpoint (local credentials for a local one, the SDK's own chain for AWS). The SDK is
 * loaded here, when asked, so a command's --help and a mistyped flag answer before it loads.
 */
export async function documentClientFromEnvironment(
  env: NodeJS.ProcessEnv = process.env,
): Promise<DynamoDBDocumentClient> {
  const [{ DynamoDBClient }, { DynamoDBDocumentClient }] = await Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/lib-dynamodb'),
  ]);
  const endpoint = dynamoEndpointFromEnvironment(env);
  const dynamoDb = new DynamoDBClient({
    region: env.AWS_REGION ?? 'eu-west-2',
    ...(endpoint ? { endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  return DynamoDBDocumentClient.from(dynamoDb, { marshallOptions: { removeUndefinedValues: true } });
}
