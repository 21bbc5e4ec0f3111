/**
 * The highest revocation-list counter this admin plane has seen (issue 15, item 2), remembered
 * outside the database: in a small state file on the admin host (COFFER_REVOCATION_STATE_FILE).
 * A list older than it is a rollback and is refused. Without a file the counter lives only as long
 * as the process (dev, tests): a restart then trusts the newest signed list it is shown.
 */
import { randomUUID } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';

interface PinFile {
  readonly v: 1;
  readonly counter: number;
}

export class RevocationPin {
  #counter: number;
  readonly #file: string | undefined;
  #writing: Promise<void> = Promise.resolve();

  private constructor(counter: number, file: string | undefined) {
    this.#counter = counter;
    this.#file = file;
  }

  /** Reads the file if it exists; a file that does not parse stops the start (never read as 0). */
  static async open(file?: string): Promise<RevocationPin> {
    if (!file) return new RevocationPin(0, undefined);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new RevocationPin(0, file);
      throw err;
    }
    const read = JSON.parse(text) as Partial<PinFile>;
    if (read.v !== 1 || !Number.isSafeInteger(read.counter) || (read.counter ?? -1) < 0) {
      throw new Error(`${file}: not a revocation state file (v1)`);
    }
    return new RevocationPin(read.counter as number, file);
  }

  get counter(): number {
    return this.#counter;
  }

  /** Remember `counter` if higher than what is remembered: written to a temporary file, synced, renamed. */
  remember(counter: number): Promise<void> {
    if (counter <= this.#counter) return this.#writing;
    this.#counter = counter;
    const file = this.#file;
    if (!file) return Promise.resolve();
    this.#writing = this.#writing.then(async () => {
      const value = this.#counter;
      const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}`);
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify({ v: 1, counter: value } satisfies PinFile)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, file);
    });
    return this.#writing;
  }
}
