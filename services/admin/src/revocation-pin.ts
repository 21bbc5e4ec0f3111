/**
 * The highest revocation-list counter this admin plane has seen (issue 15, item 2), remembered
 * outside the database: in a small state file on the admin host (COFFER_REVOCATION_STATE_FILE).
 * A list older than it is a rollback and is refused. The newest signed list seen is kept with it, so
 * that after a legitimate backup restore a key-admin can put it back (POST /api/revocations/restore).
 * Without a file both live only as long as the process (dev, tests): a restart then trusts the
 * newest signed list it is shown.
 */
import { randomUUID } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';

export interface SignedListCopy {
  readonly list: unknown;
  readonly signature: string;
}

interface PinFile {
  readonly v: 1;
  readonly counter: number;
  /** The signed list with that counter (absent in files written before it was kept). */
  readonly signed?: SignedListCopy;
}

export class RevocationPin {
  #counter: number;
  #signed: SignedListCopy | undefined;
  readonly #file: string | undefined;
  #writing: Promise<void> = Promise.resolve();

  private constructor(counter: number, file: string | undefined, signed?: SignedListCopy) {
    this.#counter = counter;
    this.#file = file;
    this.#signed = signed;
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
    return new RevocationPin(read.counter as number, file, read.signed);
  }

  get counter(): number {
    return this.#counter;
  }

  /** The newest signed list seen (to be checked again before use: the file is not trusted blindly). */
  get signed(): SignedListCopy | undefined {
    return this.#signed;
  }

  /**
   * Remember a signed list with `counter` if higher than what is remembered (also the same counter
   * when no copy was kept yet): written to a temporary file, synced, renamed.
   */
  remember(counter: number, signed?: SignedListCopy): Promise<void> {
    if (counter < this.#counter || (counter === this.#counter && (this.#signed || !signed))) return this.#writing;
    this.#counter = counter;
    if (signed) this.#signed = { list: signed.list, signature: signed.signature };
    const file = this.#file;
    if (!file) return Promise.resolve();
    this.#writing = this.#writing.then(async () => {
      const value: PinFile = { v: 1, counter: this.#counter, ...(this.#signed ? { signed: this.#signed } : {}) };
      const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}`);
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(value)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, file);
    });
    return this.#writing;
  }
}
