import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { z } from 'zod';
import { callerClaims } from '#auth/caller.ts';

/**
 * A development token issuer, so the same authorizer code verifies tokens locally as in AWS. It signs ES256 JWTs
 * and publishes its public key at /.well-known/jwks.json. POST /token mints a token (this is what
 * `npm run token` calls). It listens on loopback only and exists only in the local stack.
 */

export const localAudience = 'social-prescribing-api';

export const TokenRequest = z.intersection(
  callerClaims(),
  z.object({
    subject: z.string().min(1).max(200).optional(),
    /** Lifetime in seconds; negative values mint an already-expired token (for tests). */
    expiresInSeconds: z.number().int().min(-86_400).max(86_400).default(3600),
  }),
);
export type TokenRequest = z.input<typeof TokenRequest>;

export interface DevIssuer {
  issuer: string;
  audience: string;
  jwksUrl: string;
  mint(request: TokenRequest): Promise<string>;
  stop(): Promise<void>;
}

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/** The signing key: kept under dataDir so tokens stay valid across restarts, or made fresh in memory. */
async function signingKey(dataDir: string | undefined): Promise<{ privateKey: PrivateKey; publicJwk: JWK }> {
  const file = dataDir ? join(dataDir, 'dev-issuer-key.json') : undefined;
  if (file && existsSync(file)) {
    const { privateJwk, publicJwk } = JSON.parse(readFileSync(file, 'utf8')) as {
      privateJwk: JWK;
      publicJwk: JWK;
    };
    return { privateKey: (await importJWK(privateJwk, 'ES256')) as PrivateKey, publicJwk };
  }
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: `dev-${Date.now()}`, alg: 'ES256', use: 'sig' };
  if (file && dataDir) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify({ privateJwk: await exportJWK(privateKey), publicJwk }), {
      mode: 0o600,
    });
  }
  return { privateKey, publicJwk };
}

export async function startDevIssuer(options: { port: number; dataDir?: string }): Promise<DevIssuer> {
  const { privateKey, publicJwk } = await signingKey(options.dataDir);
  let issuer = '';

  async function mint(request: TokenRequest): Promise<string> {
    const { subject, expiresInSeconds, ...claims } = TokenRequest.parse(request);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: publicJwk.kid ?? 'dev', typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(localAudience)
      .setSubject(subject ?? `${claims.role}-client`)
      .setIssuedAt(now)
      .setExpirationTime(now + expiresInSeconds)
      .sign(privateKey);
  }

  const server = http.createServer((request, response) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const send = (status: number, body: unknown): void => {
        response.writeHead(status, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.method === 'GET' && request.url === '/.well-known/jwks.json')
        return send(200, { keys: [publicJwk] });
      if (request.method === 'POST' && request.url === '/token') {
        try {
          return send(200, {
            token: await mint(JSON.parse(Buffer.concat(chunks).toString('utf8')) as TokenRequest),
          });
        } catch (error) {
          return send(400, { error: error instanceof z.ZodError ? z.prettifyError(error) : String(error) });
        }
      }
      return send(404, { error: 'not found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(options.port, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    audience: localAudience,
    jwksUrl: `${issuer}/.well-known/jwks.json`,
    mint,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
