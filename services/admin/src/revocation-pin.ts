/**
 * The highest revocation-list counter this admin plane has seen (issue 15, item 2), remembered
 * outside the database: in a small state file on the admin host (COFFER_REVOCATION_STATE_FILE).
 * A list older than it is a rollback and is refused. The newest signed list seen is kept with it, so
 * that after a legitimate backup restore a key-admin can put it back (POST /api/revocations/restore).
 * Without a file both live only as long as the process (dev, tests): a restart then trusts the
 * newest signed list it is shown.
 *
 * Several admin replicas (the Kubernetes base runs two) share the newest signed list through a
 * bucket on the bus that only the admin user may write (`shared`, see @coffer/bus shared-cell.ts):
 * read before every check that precedes wrapping, written compare-and-set so that it only ever
 * moves forward. Without it, a list stored through replica A and rolled back in the database
 * before replica B looked would never have been seen by B. What is read there is trusted only as
 * far as the org key's signature on it goes; the local file stays the floor, so a bucket that was
 * deleted or rewound lowers nothing (and is written back).
 */
import { randomUUID } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { SharedCell } from '@coffer/bus';
import { type PublicKey, verifyRevocationList } from '@coffer/crypto';

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

/** The shared copy: the signed list itself (its counter is the list's), versioned. */
interface SharedValue {
  readonly v: 1;
  readonly signed: SignedListCopy;
}

export interface SharedPin {
  readonly cell: SharedCell;
  /** Only a list this key signed is taken from the bucket. */
  readonly trustRoot: PublicKey<'ed25519'>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class RevocationPin {
  #counter: number;
  #signed: SignedListCopy | undefined;
  readonly #file: string | undefined;
  readonly #shared: SharedPin | undefined;
  #writing: Promise<void> = Promise.resolve();

  private constructor(counter: number, file: string | undefined, shared?: SharedPin, signed?: SignedListCopy) {
    this.#counter = counter;
    this.#file = file;
    this.#shared = shared;
    this.#signed = signed;
  }

  /** Reads the file if it exists; a file that does not parse stops the start (never read as 0). */
  static async open(file?: string, shared?: SharedPin): Promise<RevocationPin> {
    if (!file) return new RevocationPin(0, undefined, shared);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new RevocationPin(0, file, shared);
      throw err;
    }
    const read = JSON.parse(text) as Partial<PinFile>;
    if (read.v !== 1 || !Number.isSafeInteger(read.counter) || (read.counter ?? -1) < 0) {
      throw new Error(`${file}: not a revocation state file (v1)`);
    }
    return new RevocationPin(read.counter as number, file, shared, read.signed);
  }

  /**
   * Before a check that precedes wrapping: take a newer signed list another replica shared, and
   * share ours if the bucket holds an older one (or none). Throws BusUnavailableError when the
   * bucket cannot be read: the caller then wraps nothing.
   */
  async refresh(): Promise<void> {
    const shared = this.#shared;
    if (!shared) return;
    const stored = await shared.cell.get();
    const theirs = stored && sharedList(shared.trustRoot, stored.value);
    const newer = theirs && (theirs.counter > this.#counter || (theirs.counter === this.#counter && !this.#signed));
    if (theirs && newer) await this.remember(theirs.counter, theirs.signed);
    else if (this.#signed && this.#counter > (theirs?.counter ?? 0)) await this.#share(this.#counter, this.#signed);
  }

  /** Put our list in the bucket unless it already holds one as new; compare-and-set, re-read on a race. */
  async #share(counter: number, signed: SignedListCopy): Promise<void> {
    const shared = this.#shared;
    if (!shared) return;
    const value = encoder.encode(JSON.stringify({ v: 1, signed } satisfies SharedValue));
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await shared.cell.get();
      const theirs = stored && sharedList(shared.trustRoot, stored.value);
      if (theirs && theirs.counter >= counter) return;
      if (await shared.cell.put(value, stored?.revision ?? 0)) return;
    }
    throw new Error('the shared revocation list kept changing under this replica');
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
  async remember(counter: number, signed?: SignedListCopy): Promise<void> {
    await this.#rememberLocally(counter, signed);
    if (signed && counter >= this.#counter) await this.#share(counter, signed);
  }

  #rememberLocally(counter: number, signed?: SignedListCopy): Promise<void> {
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

/** A list from the bucket, if it parses and the org key signed it; anything else counts as none. */
function sharedList(
  trustRoot: PublicKey<'ed25519'>,
  value: Uint8Array,
): { counter: number; signed: SignedListCopy } | null {
  try {
    const read = JSON.parse(decoder.decode(value)) as Partial<SharedValue>;
    if (read.v !== 1 || !read.signed || typeof read.signed.signature !== 'string') return null;
    const list = verifyRevocationList(trustRoot, read.signed.list, read.signed.signature);
    return { counter: list.counter, signed: { list: read.signed.list, signature: read.signed.signature } };
  } catch {
    return null;
  }
}
