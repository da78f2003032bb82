import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PseudonymKey } from '#reporting/evaluation-ports.ts';
import { minPseudonymKeyBytes } from '#reporting/domain/pseudonym.ts';

/**
 * The pseudonym key of `npm start`, in the local secret store beside the recipients' secrets: a file holding 32
 * random bytes as hex, readable only by its owner, made the first time it is asked for. It is created with `wx` (fail
 * if it exists), so two processes asking at once both end up with the one key the first wrote. Kept with the data
 * (`.data/`), so pseudonyms link across restarts as they do across extracts in AWS.
 */
export class FilePseudonymKey implements PseudonymKey {
  private cached: Uint8Array | undefined;

  constructor(private readonly file: string) {}

  async key(): Promise<Uint8Array> {
    this.cached ??= this.read() ?? this.create();
    return this.cached;
  }

  private read(): Uint8Array | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8').trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const key = Buffer.from(text, 'utf8');
    if (key.byteLength < minPseudonymKeyBytes)
      throw new Error(`The pseudonym key in ${this.file} is shorter than ${minPseudonymKeyBytes} bytes`);
    return key;
  }

  private create(): Uint8Array {
    mkdirSync(dirname(this.file), { recursive: true });
    try {
      writeFileSync(this.file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const key = this.read();
    if (key === undefined) throw new Error(`The pseudonym key ${this.file} could not be made`);
    return key;
  }
}
