import { mkdirSync, statSync } from 'node:fs';
import { open, readFile, rename } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import type { Checkpoint, CheckpointStore } from '#geography/application/import-geography.ts';

/**
 * An import's checkpoint as a small JSON file: by default `<FILE>.checkpoint.json` beside the file imported, or
 * `<state-dir>/<file name>.checkpoint.json` with `--state-dir` (for a file in a read-only place). Saved by writing a
 * temporary file, fsync and rename, so a crash leaves the old checkpoint or the new one, never half of one.
 *
 * It names what it is a checkpoint of: the file (size and modification time), the kind of import (and IMD
 * edition) and the target table (endpoint and name). A checkpoint of anything else is refused with a clear
 * message rather than resumed from (`--restart` starts afresh).
 */

const Counts = z.object({
  read: z.number().int(),
  written: z.number().int(),
  terminated: z.number().int(),
  bad: z.number().int(),
  warnings: z.number().int(),
});

const Identity = z.object({
  kind: z.string(),
  file: z.object({ path: z.string(), size: z.number(), mtimeMs: z.number() }),
  target: z.string(),
});
type Identity = z.infer<typeof Identity>;

const StoredCheckpoint = z.object({
  version: z.literal(1),
  identity: Identity,
  line: z.number().int().min(0),
  bytes: z.number().int().min(0),
  counts: Counts,
  complete: z.boolean(),
  savedAt: z.string(),
});

export class CheckpointMismatchError extends Error {
  override readonly name = 'CheckpointMismatchError';
}

export function checkpointPathFor(file: string, stateDir?: string): string {
  return stateDir
    ? join(resolve(stateDir), `${basename(file)}.checkpoint.json`)
    : `${resolve(file)}.checkpoint.json`;
}

export class CheckpointFile implements CheckpointStore {
  private readonly identity: Identity;

  /** `kind` is e.g. `nspl` or `imd-2019`; `target` names the table written to (endpoint and table name). */
  constructor(
    readonly path: string,
    file: string,
    kind: string,
    target: string,
  ) {
    const { size, mtimeMs } = statSync(file);
    this.identity = { kind, file: { path: resolve(file), size, mtimeMs }, target };
  }

  async load(): Promise<Checkpoint | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = StoredCheckpoint.safeParse(json);
    if (!parsed.success) {
      throw new CheckpointMismatchError(
        `${this.path} is not a checkpoint this version can read (use --restart)`,
      );
    }
    const { identity } = parsed.data;
    const differences = [
      identity.kind !== this.identity.kind ? `it is for a "${identity.kind}" import` : undefined,
      identity.target !== this.identity.target ? `it is for ${identity.target}` : undefined,
      identity.file.size !== this.identity.file.size || identity.file.mtimeMs !== this.identity.file.mtimeMs
        ? 'the file has changed since it was written'
        : undefined,
    ].filter((d) => d !== undefined);
    if (differences.length > 0) {
      throw new CheckpointMismatchError(
        `The checkpoint ${this.path} does not match this import: ${differences.join('; ')}. ` +
          'Use --restart to import the whole file (or remove the checkpoint).',
      );
    }
    const { line, bytes, counts, complete } = parsed.data;
    return { line, bytes, counts, complete };
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    const content = JSON.stringify(
      { version: 1, identity: this.identity, ...checkpoint, savedAt: new Date().toISOString() },
      null,
      2,
    );
    mkdirSync(resolve(this.path, '..'), { recursive: true });
    const temporary = `${this.path}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(`${content}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.path);
  }
}
