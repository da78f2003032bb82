import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SecretOwnerKind } from '#directory/domain/directory.ts';
import { secretNameOf } from '#directory/domain/secret-names.ts';
import type { RecipientSecretsWriter } from '#directory/ports.ts';

/**
 * The secret store of `npm start`: one JSON file of `{ "<kind>/<id>": "whsec_..." }`, readable only by its owner.
 * The same port as AWS Secrets Manager in the stack, so the delivery path is the same code locally. The file is
 * re-read when it changes (by mtime), and written whole through a rename, so a reader never sees half a file.
 */
export class FileRecipientSecrets implements RecipientSecretsWriter {
  private cache: { mtimeMs: number; secrets: Record<string, string> } | undefined;

  constructor(private readonly file: string) {}

  async secretOf(kind: SecretOwnerKind, id: string): Promise<string | undefined> {
    return this.all()[secretNameOf(kind, id)];
  }

  async putSecret(kind: SecretOwnerKind, id: string, secret: string): Promise<void> {
    await this.putSecrets({ [secretNameOf(kind, id)]: secret });
  }

  /** Several at once (a directory load): one write of the file. */
  async putSecrets(secrets: Record<string, string>): Promise<void> {
    const next = { ...this.all(), ...secrets };
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, this.file);
    this.cache = undefined;
  }

  private all(): Record<string, string> {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.file).mtimeMs;
    } catch {
      return {};
    }
    if (this.cache?.mtimeMs !== mtimeMs) {
      this.cache = {
        mtimeMs,
        secrets: JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, string>,
      };
    }
    return this.cache.secrets;
  }
}
