/**
 * An audit event as streamed to a SIEM (format v1): every stored field, the hash of the event
 * before it and its own hash, so a receiver checks continuity without the database: `prevHash`
 * equals the previous event's `hash`, `seq` goes up by one, and `hash` is SHA-256 over the bytes of
 * `prevHash` then the canonical JSON (sorted keys) of {seq, at, actor, action, target, reason,
 * outcome, origin, details} — exactly the chain the vault keeps (audit.ts).
 */
import type postgres from 'postgres';
import { type AuditRow, eventHash, storedEventOf } from '../audit.ts';

/** Every stored column (seq a number, at ISO 8601) and the two hashes, in hex. */
export interface StreamedEvent extends Omit<AuditRow, 'seq' | 'at'> {
  readonly v: 1;
  readonly seq: number;
  readonly at: string;
  readonly prevHash: string;
  readonly hash: string;
}

/** Events after `after`, in order, at most `limit`. */
export async function eventsAfter(
  sql: postgres.Sql | postgres.TransactionSql,
  after: number,
  limit: number,
): Promise<StreamedEvent[]> {
  const rows = await sql<(AuditRow & { prev_hash: Buffer; hash: Buffer })[]>`
    SELECT seq, at, actor, action, target, reason, outcome, origin, details, prev_hash, hash
    FROM audit_events WHERE seq > ${after} ORDER BY seq LIMIT ${limit}`;
  return rows.map(({ prev_hash, hash, ...row }) => ({
    v: 1,
    ...storedEventOf(row),
    prevHash: prev_hash.toString('hex'),
    hash: hash.toString('hex'),
  }));
}

/**
 * A receiver's check of a run of streamed events: each links to the one before (the first to
 * `prevHash`, when the receiver has it) and its hash is right. Returns the first bad seq, or null.
 */
export function firstBreak(events: readonly StreamedEvent[], prevHash?: string): number | null {
  let prev = prevHash ?? events[0]?.prevHash;
  let seq = (events[0]?.seq ?? 1) - 1;
  for (const e of events) {
    if (e.seq !== seq + 1 || e.prevHash !== prev) return e.seq;
    const { v: _v, prevHash: _p, hash: _h, ...stored } = e;
    if (eventHash(Buffer.from(e.prevHash, 'hex'), stored).toString('hex') !== e.hash) return e.seq;
    prev = e.hash;
    seq = e.seq;
  }
  return null;
}
