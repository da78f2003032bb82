import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The authorizer function itself, against a JWKS this test serves: a blank subject is refused, and the token's
// expiry travels in the context so the handlers can refuse a cached Allow once the token has expired.

const issuer = 'https://issuer.unit.test/';
const audience = 'social-prescribing-api';
const methodArn = 'arn:aws:execute-api:eu-west-2:000000000000:api/v1/GET/referrals/x';

let jwks: http.Server;
let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let authorize: (event: APIGatewayTokenAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  privateKey = pair.privateKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'unit', alg: 'ES256', use: 'sig' };
  jwks = http.createServer((_, response) => {
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    JWT_ISSUER: issuer,
    JWT_AUDIENCE: audience,
    JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
    // As functionEnvironment gives it: the `function` dimension of its metrics.
    SYSTEM_FUNCTION_NAME: 'authorizer',
  });
  // Settings are read at module load, as in Lambda.
  authorize = ((await import('../../functions/authorizer/handler.ts')) as { handler: typeof authorize })
    .handler;
});
afterAll(() => new Promise<void>((resolve) => jwks.close(() => resolve())));

const now = (): number => Math.floor(Date.now() / 1000);
const claims = (overrides: JWTPayload = {}): JWTPayload => ({
  iss: issuer,
  aud: audience,
  sub: 'unit-gp-system',
  iat: now(),
  exp: now() + 120,
  role: 'gp-system',
  ods: ['A81001'],
  ...overrides,
});
const event = async (payload: JWTPayload): Promise<APIGatewayTokenAuthorizerEvent> => ({
  type: 'TOKEN',
  methodArn,
  authorizationToken: `Bearer ${await new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'unit' }).sign(privateKey)}`,
});

describe('authorizer', () => {
  it('allows a well-formed token and passes its expiry on in the context', async () => {
    const payload = claims();
    const result = await authorize(await event(payload));
    expect(result.policyDocument.Statement.map((s) => s.Effect)).toEqual(['Allow']);
    expect(result.context).toMatchObject({ subject: 'unit-gp-system', tokenExpiresAt: String(payload.exp) });
  });

  it.each([
    ['an empty subject', ''],
    ['a whitespace-only subject', '  \t '],
  ])('refuses %s (401 Unauthorized), though the signature is good', async (_, sub) => {
    await expect(authorize(await event(claims({ sub })))).rejects.toThrow('Unauthorized');
  });

  it('counts each refusal as the EMF metric AuthorizerDenials, by service and function', async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await expect(authorize({ type: 'TOKEN', methodArn, authorizationToken: 'Basic x' })).rejects.toThrow(
        'Unauthorized',
      );
      await expect(authorize(await event(claims({ aud: 'someone-else' })))).rejects.toThrow('Unauthorized');
      await authorize(await event(claims()));
    } finally {
      spy.mockRestore();
    }
    const records = written
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.includes('"_aws"'))
      .map(
        (line) => JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: unknown[] } },
      );
    const denials = records.filter((record) => record.AuthorizerDenials !== undefined);
    expect(denials).toHaveLength(2);
    for (const record of denials) {
      expect(record).toMatchObject({ service: 'social-prescribing-referrals', function: 'authorizer' });
      expect(record._aws.CloudWatchMetrics).toEqual([
        expect.objectContaining({
          Namespace: 'SocialPrescribing',
          Dimensions: [expect.arrayContaining(['service', 'function'])],
        }),
      ]);
    }
  });
});
