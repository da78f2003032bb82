import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { PseudonymKey } from '#reporting/evaluation-ports.ts';
import { minPseudonymKeyBytes } from '#reporting/domain/pseudonym.ts';

/**
 * The pseudonym key in AWS Secrets Manager: one secret the stack generates (infra/constructs/functions.ts) and grants
 * to the evaluation function alone. Read once per execution environment; it is never rotated (a new key would give
 * every patient a new pseudonym, and extracts made before it could no longer be linked to those made after).
 */
export class SecretsManagerPseudonymKey implements PseudonymKey {
  private cached: Promise<Uint8Array> | undefined;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
  ) {}

  key(): Promise<Uint8Array> {
    this.cached ??= this.read().catch((error: unknown) => {
      this.cached = undefined;
      throw error;
    });
    return this.cached;
  }

  private async read(): Promise<Uint8Array> {
    const { SecretString } = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
    const key = Buffer.from(SecretString ?? '', 'utf8');
    if (key.byteLength < minPseudonymKeyBytes)
      throw new Error(`The pseudonym key secret is shorter than ${minPseudonymKeyBytes} bytes`);
    return key;
  }
}
