/**
 * Signed checkpoints of the audit chain's head, kept outside the database (threat-model.md).
 *
 * The vault keeps a directory on its own host (COFFER_AUDIT_CHECKPOINT_DIR; `.coffer/audit` in
 * `pnpm dev`) holding its checkpoint signing key (made at first start, mode 0600) and an
 * append-only file of signed checkpoints, one JSON line each. Every interval it walks the events
 * after its last checkpoint from that checkpoint's hash and, if they link, signs and appends the
 * new head; if they do not (rows deleted or rewritten underneath it) it signs nothing and raises an
 * alert. A database writer can change rows but neither this file nor the key: deleting the last
 * events, or rewriting one and re-chaining the rest, no longer matches the latest checkpoint.
 */
import { appendFile, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type AuditCheckpoint,
  decodeSigningKeyFile,
  encodeSigningKeyFile,
  isCryptoError,
  PrivateKey,
  type PublicKey,
  type SignedAuditCheckpoint,
  signAuditCheckpoint,
  verifyAuditCheckpoint,
} from '@coffer/crypto';
import type postgres from 'postgres';
import { verifyAuditChain } from './audit.ts';

export const CHECKPOINT_FILE = 'audit-checkpoints.jsonl';
export const SIGNING_KEY_FILE = 'audit-signing-key.json';

/** What a checkpoint file holds, as far as it can be trusted. */
export interface CheckpointFile {
  /** The last checkpoint in the file that verifies under the pinned key, signature included. */
  readonly latest: SignedAuditCheckpoint | undefined;
  /** Lines after it that do not verify (another key, altered, not JSON), by line from the end. */
  readonly refused: readonly { line: number; reason: string }[];
}

const CHUNK = 64 * 1024;

/** The file's lines from the last one backwards, read a chunk at a time (the file only grows). */
async function* linesFromEnd(file: string): AsyncGenerator<string> {
  const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!handle) return;
  try {
    let position = (await handle.stat()).size;
    let rest: Buffer = Buffer.alloc(0);
    while (position > 0) {
      const size = Math.min(CHUNK, position);
      position -= size;
      const chunk = Buffer.alloc(size);
      await handle.read(chunk, 0, size, position);
      const text = Buffer.concat([chunk, rest]);
      const lines = text.toString('utf8').split('\n');
      // The first piece may be cut mid-line: keep its bytes for the next (earlier) chunk.
      rest = position > 0 ? Buffer.from(lines.shift() ?? '', 'utf8') : Buffer.alloc(0);
      for (const line of lines.reverse()) yield line;
    }
    if (rest.length > 0) yield rest.toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Read a checkpoint file (the vault's own, or any copy of it) against a pinned public key: the
 * last line that verifies, and every line after it that does not. The vault only appends, so
 * reading stops at the newest genuine checkpoint; the file may grow for years.
 */
export async function readCheckpointFile(file: string, trusted: PublicKey<'ed25519'>): Promise<CheckpointFile> {
  const refused: { line: number; reason: string }[] = [];
  let fromEnd = 0;
  for await (const line of linesFromEnd(file)) {
    if (line.trim() === '') continue;
    fromEnd++;
    try {
      const signed = JSON.parse(line);
      const fields = verifyAuditCheckpoint(signed, trusted);
      const latest = { v: 1, ...fields, key: trusted.toBase64url(), signature: signed.signature } as const;
      return { latest, refused };
    } catch (err) {
      refused.push({ line: fromEnd, reason: isCryptoError(err) ? err.code : 'not JSON' });
    }
  }
  return { latest: undefined, refused };
}

/**
 * How the chain compares with the latest checkpoint. The checkpoint is returned signed: whoever
 * reads a verdict can keep it (one line of a checkpoint file) and check a later log against it.
 */
export type CheckpointVerdict =
  | { status: 'verified'; checkpoint: SignedAuditCheckpoint }
  /** The log ends before the checkpointed event: its tail was deleted. */
  | { status: 'truncated'; checkpoint: SignedAuditCheckpoint; events: number }
  /** The checkpointed event has another hash: it or an earlier one was rewritten and re-chained. */
  | { status: 'rewritten'; checkpoint: SignedAuditCheckpoint; found: string }
  /** The chain breaks before the checkpointed event; the chain verdict names where. */
  | { status: 'unchecked'; checkpoint: SignedAuditCheckpoint }
  /** Lines that do not verify under the pinned key: forged or damaged, never trusted. */
  | { status: 'forged'; refused: CheckpointFile['refused'] }
  /** Checked, and no checkpoint verifies: fine for an empty log, suspicious for any other. */
  | { status: 'none' }
  /** No checkpoint file configured (a vault without COFFER_AUDIT_CHECKPOINT_DIR). */
  | { status: 'off' };

export interface AuditLogVerdict {
  readonly ok: boolean;
  readonly events: number;
  readonly head?: string;
  readonly brokenAt?: number;
  readonly checkpoint: CheckpointVerdict;
  /** Present when asked: whether the chain holds that hash, and at least that many events. */
  readonly expectedHead?: { hash: string; found: boolean };
  readonly minEvents?: { required: number; met: boolean };
}

export interface AuditExpectations {
  /** The checkpoint file and the public key pinned for it; absent: no checkpoint is checked. */
  readonly checkpoints?: { readonly file: string; readonly key: PublicKey<'ed25519'> };
  /** A head hash recorded earlier (e.g. by an auditor): the chain must still contain it. */
  readonly expectHead?: string;
  readonly minEvents?: number;
}

/**
 * The chain walk, judged against the latest checkpoint and any expectation. `ok` only when every
 * part holds; a checkpoint line that does not verify fails it too (someone wrote it who should not).
 */
export async function verifyAuditLog(sql: postgres.Sql, expect: AuditExpectations = {}): Promise<AuditLogVerdict> {
  const file = expect.checkpoints
    ? await readCheckpointFile(expect.checkpoints.file, expect.checkpoints.key)
    : undefined;
  const cp = file?.latest;
  const chain = await verifyAuditChain(sql, {
    seqs: cp ? [cp.seq] : [],
    hashes: expect.expectHead ? [expect.expectHead] : [],
  });
  let checkpoint: CheckpointVerdict;
  if (file && file.refused.length > 0) checkpoint = { status: 'forged', refused: file.refused };
  else if (!file) checkpoint = { status: 'off' };
  else if (!cp) checkpoint = { status: 'none' };
  else if (chain.hashAt[cp.seq] !== undefined) {
    const found = chain.hashAt[cp.seq] as string;
    checkpoint =
      found === cp.hash ? { status: 'verified', checkpoint: cp } : { status: 'rewritten', checkpoint: cp, found };
  } else if (chain.ok) checkpoint = { status: 'truncated', checkpoint: cp, events: chain.events };
  else checkpoint = { status: 'unchecked', checkpoint: cp };

  const expectedHead = expect.expectHead
    ? { hash: expect.expectHead, found: chain.found.includes(expect.expectHead) }
    : undefined;
  const minEvents =
    expect.minEvents !== undefined ? { required: expect.minEvents, met: chain.events >= expect.minEvents } : undefined;
  const ok =
    chain.ok &&
    (checkpoint.status === 'verified' ||
      checkpoint.status === 'off' ||
      (checkpoint.status === 'none' && chain.events === 0)) &&
    (expectedHead?.found ?? true) &&
    (minEvents?.met ?? true);
  return {
    ok,
    events: chain.events,
    ...(chain.ok ? { head: chain.head } : { brokenAt: chain.brokenAt }),
    checkpoint,
    ...(expectedHead ? { expectedHead } : {}),
    ...(minEvents ? { minEvents } : {}),
  };
}

export type CheckpointOutcome =
  | { written: SignedAuditCheckpoint }
  | { unchanged: AuditCheckpoint }
  | { empty: true }
  /** The events after the last checkpoint do not link to it: nothing signed. */
  | { refused: { checkpoint: AuditCheckpoint; brokenAt: number | null; events: number } };

/** The vault's checkpointer: its signing key and its checkpoint file, in one directory. */
export class AuditCheckpointer {
  readonly file: string;
  readonly #key: PrivateKey<'ed25519'>;
  #last: AuditCheckpoint | undefined;
  #running: Promise<CheckpointOutcome> | undefined;

  private constructor(file: string, key: PrivateKey<'ed25519'>, last: AuditCheckpoint | undefined) {
    this.file = file;
    this.#key = key;
    this.#last = last;
  }

  /** Open (or, on first start, make) the key and the file in `dir`. */
  static async open(dir: string): Promise<AuditCheckpointer> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const keyFile = path.join(dir, SIGNING_KEY_FILE);
    let key: PrivateKey<'ed25519'>;
    try {
      key = decodeSigningKeyFile(await readFile(keyFile, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      key = PrivateKey.generate('ed25519');
      // 'wx': two replicas starting on one directory must not each make a key.
      await writeFile(keyFile, encodeSigningKeyFile(key), { mode: 0o600, flag: 'wx' }).catch(async (e) => {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        key = decodeSigningKeyFile(await readFile(keyFile, 'utf8'));
      });
    }
    const file = path.join(dir, CHECKPOINT_FILE);
    const { latest } = await readCheckpointFile(file, key.publicKey);
    return new AuditCheckpointer(file, key, latest);
  }

  /** The public half verifiers pin (COFFER_AUDIT_CHECKPOINT_KEY). */
  get publicKey(): PublicKey<'ed25519'> {
    return this.#key.publicKey;
  }

  get last(): AuditCheckpoint | undefined {
    return this.#last;
  }

  /** Sign and append the current head, if it moved and still extends the last checkpoint. */
  checkpoint(sql: postgres.Sql, now: Date): Promise<CheckpointOutcome> {
    // One at a time: two overlapping runs would both sign and append the same head.
    const run = (this.#running ?? Promise.resolve()).then(
      () => this.#checkpoint(sql, now),
      () => this.#checkpoint(sql, now),
    );
    this.#running = run;
    return run;
  }

  async #checkpoint(sql: postgres.Sql, now: Date): Promise<CheckpointOutcome> {
    const last = this.#last;
    if (last) {
      // The checkpointed event must still be there, unchanged; then only what follows needs a walk.
      const [row] = await sql<{ hash: Buffer }[]>`SELECT hash FROM audit_events WHERE seq = ${last.seq}`;
      if (!row || row.hash.toString('hex') !== last.hash) {
        const [count] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM audit_events`;
        return { refused: { checkpoint: last, brokenAt: row ? last.seq : null, events: Number(count?.n) } };
      }
    }
    const chain = await verifyAuditChain(sql, last ? { from: { seq: last.seq, hash: last.hash } } : {});
    if (!chain.ok) {
      const checkpoint = last ?? { seq: 0, hash: '0'.repeat(64), at: new Date(0).toISOString() };
      return { refused: { checkpoint, brokenAt: chain.brokenAt, events: chain.events } };
    }
    if (chain.events === 0) return { empty: true };
    if (last && chain.events === last.seq) return { unchanged: last };
    const signed = signAuditCheckpoint(this.#key, { seq: chain.events, hash: chain.head, at: now.toISOString() });
    await appendFile(this.file, `${JSON.stringify(signed)}\n`, { mode: 0o600 });
    this.#last = { seq: signed.seq, hash: signed.hash, at: signed.at };
    return { written: signed };
  }
}
