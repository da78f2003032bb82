import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { FileRecipientSecrets } from '#adapters/secrets/file-recipient-secrets.ts';
import { SecretsManagerRecipientSecrets } from '#adapters/secrets/secrets-manager-recipient-secrets.ts';
import { FilePseudonymKey } from '#adapters/secrets/file-pseudonym-key.ts';
import { SecretsManagerPseudonymKey } from '#adapters/secrets/secrets-manager-pseudonym-key.ts';
import type { RecipientSecretsWriter } from '#directory/ports.ts';
import type { PseudonymKey } from '#reporting/evaluation-ports.ts';
import { pseudonymKeyEnvVar, recipientSecretsEnvVar } from '#system/environment.ts';
import { accountRequests } from '#platform/request-accounting.ts';
import { traceRequests } from '#platform/tracing.ts';

/**
 * The recipients' secret store named by RECIPIENT_SECRETS: `secretsmanager:<prefix>` (the stack) or `file:<path>`
 * (`npm start`). A function not granted the secrets has no such variable, and asking for the store says so.
 */
export function recipientSecretsFrom(location = process.env[recipientSecretsEnvVar]): RecipientSecretsWriter {
  if (location?.startsWith('secretsmanager:'))
    return new SecretsManagerRecipientSecrets(
      traceRequests(accountRequests(new SecretsManagerClient({}), 'SecretsManager'), 'SecretsManager'),
      location.slice('secretsmanager:'.length),
    );
  if (location?.startsWith('file:')) return new FileRecipientSecrets(location.slice('file:'.length));
  throw new Error(
    `Environment variable ${recipientSecretsEnvVar} is not set to secretsmanager:<prefix> or file:<path>: is this function granted recipientSecrets?`,
  );
}

/**
 * The evaluation extract's pseudonym key named by PSEUDONYM_KEY: `secretsmanager:<secret name>` (the stack) or
 * `file:<path>` (`npm start`, made there on first use). Only a function granted `pseudonymKey` has the variable.
 */
export function pseudonymKeyFrom(location = process.env[pseudonymKeyEnvVar]): PseudonymKey {
  if (location?.startsWith('secretsmanager:'))
    return new SecretsManagerPseudonymKey(
      traceRequests(accountRequests(new SecretsManagerClient({}), 'SecretsManager'), 'SecretsManager'),
      location.slice('secretsmanager:'.length),
    );
  if (location?.startsWith('file:')) return new FilePseudonymKey(location.slice('file:'.length));
  throw new Error(
    `Environment variable ${pseudonymKeyEnvVar} is not set to secretsmanager:<name> or file:<path>: is this function granted pseudonymKey?`,
  );
}
