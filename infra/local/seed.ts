import { readFileSync } from 'node:fs';
import { DirectorySnapshot } from '#directory/domain/directory.ts';

export const sampleDirectoryFile = new URL('../../events/directory.json', import.meta.url);

/** Reads a directory file, pointing its `{{WEBHOOK_BASE}}` channels at the given receiver, and validates it. */
export function readDirectory(file: URL | string, webhookBase: string): DirectorySnapshot {
  const text = readFileSync(file, 'utf8').replaceAll('{{WEBHOOK_BASE}}', webhookBase);
  const parsed = DirectorySnapshot.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ');
    throw new Error(`Directory file ${String(file)} is not valid:\n  ${problems}`);
  }
  return parsed.data;
}
