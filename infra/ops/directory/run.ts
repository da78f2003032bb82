import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoAuditLog } from '#adapters/dynamodb/audit-log.ts';
import { DynamoDirectoryEditor } from '#adapters/dynamodb/directory-editor.ts';
import { DynamoDirectory } from '#adapters/dynamodb/directory-store.ts';
import type { RecipientSecretsWriter } from '#directory/ports.ts';
import { recipientSecretsFrom } from '#platform/secrets.ts';
import { exportDirectory } from './export-oruk.ts';
import { ImportWriteError, importOrukFile } from './import-oruk.ts';
import { importPracticesFile } from './import-practices.ts';
import { noteLines, orukSummaryLines, practicesSummaryLines, problemLines } from './report.ts';

/**
 * The directory commands wired to the directory table and the secret store (directory-cli.ts parses the arguments).
 * Answers the exit code: 0 done (or a clean dry run), 1 the file has problems or a write failed, 2 misconfigured.
 */

export interface RunRequest {
  command: 'import' | 'export' | 'import-practices';
  file?: string;
  dryRun: boolean;
  out?: string;
  secrets?: string;
  today: string;
}

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** A dry run against AWS needs no secret store: it writes nothing. */
const noSecretStore: RecipientSecretsWriter = {
  secretOf: () => Promise.reject(new Error('no secret store is configured')),
  putSecret: () => Promise.reject(new Error('no secret store is configured')),
};

const processOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * Where `{{WEBHOOK_BASE}}` in an imported file points (as events/directory.json's channels): WEBHOOK_BASE, or npm
 * start's webhook receiver on WEBHOOK_PORT (default 3001).
 */
export const webhookBaseOf = (env: NodeJS.ProcessEnv): string =>
  env.WEBHOOK_BASE ?? `http://127.0.0.1:${env.WEBHOOK_PORT ?? '3001'}`;

/** Where the commands write, from the environment (as `npm start` and the stack name things). */
export function targetOf(env: NodeJS.ProcessEnv, secretsOption?: string) {
  const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB ?? `http://127.0.0.1:${env.DYNAMODB_PORT ?? '8000'}`;
  const table = env.DIRECTORY_TABLE ?? 'directory';
  const auditTable = env.AUDIT_TABLE ?? 'audit';
  const region = env.AWS_REGION ?? 'eu-west-2';
  // Locally, where npm start keeps the secrets; against AWS there is no sensible default.
  const secrets =
    secretsOption ??
    env.RECIPIENT_SECRETS ??
    (endpoint ? `file:${resolve(env.DATA_DIR ?? '.data', 'recipient-secrets.json')}` : undefined);
  return {
    endpoint,
    table,
    auditTable,
    region,
    secrets,
    where: `table ${table} at ${endpoint || `AWS ${region}`}`,
  };
}

function reasonOf(error: unknown, endpoint: string, where: string): string {
  const { name, code, message } = error as { name?: string; code?: string; message?: string };
  const cause = (error as { cause?: unknown }).cause;
  if (error instanceof ImportWriteError)
    return `${error.message}\nWhat was written stays; run the same import again to finish (written records then show as unchanged).`;
  if (name === 'ResourceNotFoundException') return `there is no ${where}`;
  if (code === 'ECONNREFUSED' || (cause as { code?: string } | undefined)?.code === 'ECONNREFUSED')
    return `nothing answers at ${endpoint}: is "npm start" running? (or set DYNAMODB_PORT / AWS_ENDPOINT_URL_DYNAMODB)`;
  return `${where}: ${message ?? String(error)}`;
}

export async function run(
  request: RunRequest,
  env: NodeJS.ProcessEnv = process.env,
  output: Output = processOutput,
): Promise<number> {
  const target = targetOf(env, request.secrets);
  const { file } = request;
  let text: string | undefined;
  if (file !== undefined) {
    if (!existsSync(file)) {
      output.err(`No such file: ${file}`);
      return 1;
    }
    text = readFileSync(file, 'utf8');
  }

  const dynamoDb = new DynamoDBClient({
    region: target.region,
    ...(target.endpoint
      ? { endpoint: target.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  const client = DynamoDBDocumentClient.from(dynamoDb, { marshallOptions: { removeUndefinedValues: true } });
  const editor = new DynamoDirectoryEditor(client, target.table);
  try {
    if (request.command === 'export') {
      const page = await exportDirectory(editor);
      const json = `${JSON.stringify(page, null, 2)}\n`;
      const count = (page.contents as unknown[]).length;
      if (request.out) {
        writeFileSync(request.out, json);
        output.err(
          `Exported ${count} service${count === 1 ? '' : 's'} from ${target.where} to ${request.out}`,
        );
      } else {
        // Flushed before the caller exits: a pipe takes a large export in several writes.
        await new Promise<void>((resolve, reject) =>
          process.stdout.write(json, (error) => (error ? reject(error) : resolve())),
        );
      }
      return 0;
    }

    if (request.command === 'import-practices') {
      const directory = new DynamoDirectory(client, target.table);
      const result = await importPracticesFile(text ?? '', editor, {
        today: request.today,
        dryRun: request.dryRun,
        // The local stack's receiver is plain http on 127.0.0.1; against AWS, https only.
        channels: target.endpoint ? 'allow-loopback-http' : 'https-only',
        existingPractice: (ods) => directory.practice(ods),
        // Practices' signing secrets (the messages back to them) go to the same store as partners'.
        ...(target.secrets === undefined ? {} : { secrets: recipientSecretsFrom(target.secrets) }),
      });
      if (result.problems.length > 0) {
        for (const line of problemLines(result.problems, file ?? 'The file')) output.err(line);
        return 1;
      }
      for (const line of practicesSummaryLines(result, request.dryRun)) output.out(line);
      return 0;
    }

    let json: unknown;
    try {
      json = JSON.parse((text ?? '').replaceAll('{{WEBHOOK_BASE}}', webhookBaseOf(env)));
    } catch (error) {
      for (const line of problemLines(
        [{ path: '(file)', rule: `is not JSON: ${(error as Error).message}` }],
        file ?? 'The file',
      ))
        output.err(line);
      return 1;
    }
    if (target.secrets === undefined && !request.dryRun) {
      output.err(
        "Against AWS, say where new partners' signing secrets go: RECIPIENT_SECRETS=secretsmanager:<stack name>/recipients (or --secrets)",
      );
      return 2;
    }
    if (target.secrets !== undefined && !/^(file|secretsmanager):./.test(target.secrets)) {
      output.err(`The secret store must be file:<path> or secretsmanager:<prefix>, not "${target.secrets}"`);
      return 2;
    }
    const secretStore = target.secrets ?? '(no secret store: dry run)';
    const started = Date.now();
    const result = await importOrukFile(
      json,
      {
        editor,
        audit: new DynamoAuditLog(client, target.auditTable),
        actor: `import:${basename(file ?? 'stdin')}`,
        // The local stack's receivers are plain http on 127.0.0.1; against AWS, https only.
        channels: target.endpoint ? 'allow-loopback-http' : 'https-only',
        secrets: target.secrets === undefined ? noSecretStore : recipientSecretsFrom(target.secrets),
        onProgress: (done, total) => {
          const every = Math.max(25, Math.ceil(total / 20));
          if (total >= 25 && (done % every === 0 || done === total))
            output.err(`  written ${done} of ${total} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
        },
      },
      { dryRun: request.dryRun },
    );
    for (const line of noteLines(result.notes)) output.err(line);
    if (result.problems.length > 0) {
      for (const line of problemLines(result.problems, file ?? 'The file')) output.err(line);
      return 1;
    }
    for (const line of orukSummaryLines(result, secretStore, request.dryRun)) output.out(line);
    return 0;
  } catch (error) {
    output.err(`${request.command} failed: ${reasonOf(error, target.endpoint, target.where)}`);
    return 1;
  } finally {
    dynamoDb.destroy();
  }
}
