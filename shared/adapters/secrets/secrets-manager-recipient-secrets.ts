import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretOwnerKind } from '#directory/domain/directory.ts';
import { secretNameOf } from '#directory/domain/secret-names.ts';
import type { RecipientSecretsWriter } from '#directory/ports.ts';

/**
 * Recipients' signing secrets in AWS Secrets Manager, one secret per recipient named `<prefix>/<kind>/<id>`, so
 * IAM can grant the notifier read of `<prefix>/*` and nothing else. Reads are cached per execution environment for
 * `cacheSeconds` (a secret is read once per few minutes, not once per delivery); a rotated secret is used within
 * that time. A missing secret is not cached, so a recipient added a moment ago is found on the next delivery.
 */
export class SecretsManagerRecipientSecrets implements RecipientSecretsWriter {
  private readonly cache = new Map<string, { value: string; until: number }>();

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly prefix: string,
    private readonly cacheSeconds = 300,
    private readonly now: () => number = Date.now,
  ) {}

  private nameOf(kind: SecretOwnerKind, id: string): string {
    return `${this.prefix}/${secretNameOf(kind, id)}`;
  }

  async secretOf(kind: SecretOwnerKind, id: string): Promise<string | undefined> {
    const name = this.nameOf(kind, id);
    const cached = this.cache.get(name);
    if (cached && cached.until > this.now()) return cached.value;
    try {
      const { SecretString } = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
      if (SecretString === undefined) return undefined;
      this.cache.set(name, { value: SecretString, until: this.now() + this.cacheSeconds * 1000 });
      return SecretString;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }

  async putSecret(kind: SecretOwnerKind, id: string, secret: string): Promise<void> {
    const name = this.nameOf(kind, id);
    try {
      await this.client.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: secret,
          Description: `Webhook signing secret of ${kind} ${id}`,
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceExistsException)) throw error;
      await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secret }));
    }
    this.cache.delete(name);
  }
}
