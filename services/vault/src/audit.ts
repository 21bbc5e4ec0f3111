/**
 * The audit log: append-only and hash-chained. Each event's hash is SHA-256 over the previous
 * hash and the event's canonical JSON (sorted keys), so editing or removing any row breaks every
 * later link; `verifyAuditChain` finds the first break. Appends serialise on an advisory lock so the
 * chain is linear.
 */
import { createHash } from 'node:crypto';
import type postgres from 'postgres';

export interface AuditEvent {
  readonly actor: string;
  readonly action: string;
  readonly target?: string | null;
  readonly reason?: string | null;
  readonly outcome: 'success' | 'failure' | 'denied';
  readonly origin?: string | null;
  readonly details?: Record<string, string | number | boolean | null> | null;
}

const AUDIT_LOCK = 0x636f66666561; // names the audit append lock in pg_locks
const GENESIS = Buffer.alloc(32);

/** JSON with object keys sorted at every level: one byte string per value, whatever jsonb did. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export interface StoredEvent extends AuditEvent {
  readonly seq: number;
  readonly at: string;
}

/** An audit_events row as postgres.js reads it: seq is a bigint (a string), at a Date. */
export interface AuditRow {
  readonly seq: string;
  readonly at: Date;
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly reason: string | null;
  readonly outcome: AuditEvent['outcome'];
  readonly origin: string | null;
  readonly details: Record<string, string | number | boolean | null> | null;
}

/**
 * A row (or the columns of it a query took) as the vault hands it on and hashes it: seq a number,
 * at ISO 8601 UTC; every other column as read, in the query's order.
 */
export function storedEventOf<R extends { readonly seq: string; readonly at: Date }>(
  row: R,
): Omit<R, 'seq' | 'at'> & { seq: number; at: string } {
  return { ...row, seq: Number(row.seq), at: row.at.toISOString() };
}

export function eventHash(prev: Buffer, e: StoredEvent): Buffer {
  const canonical = canonicalJson({
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    target: e.target ?? null,
    reason: e.reason ?? null,
    outcome: e.outcome,
    origin: e.origin ?? null,
    details: e.details ?? null,
  });
  return createHash('sha256').update(prev).update(canonical).digest();
}

// PostgreSQL stores text as UTF-8, where a lone UTF-16 surrogate cannot exist: it would come back
// as U+FFFD and the hash would no longer match. Hash and store exactly what will be read back.
const wellFormed = (s: string): string => (s as unknown as { toWellFormed(): string }).toWellFormed();
function storable(event: AuditEvent): AuditEvent {
  const text = (v: string | null | undefined) => (typeof v === 'string' ? wellFormed(v) : null);
  const details = event.details
    ? Object.fromEntries(
        Object.entries(event.details).map(([k, v]) => [wellFormed(k), typeof v === 'string' ? wellFormed(v) : v]),
      )
    : null;
  return {
    actor: wellFormed(event.actor),
    action: wellFormed(event.action),
    target: text(event.target),
    reason: text(event.reason),
    outcome: event.outcome,
    origin: text(event.origin),
    details,
  };
}

/** The chain's head as an append sees it: the last event's seq and hash (genesis: 0 and zeros). */
export interface AuditHead {
  readonly seq: number;
  readonly hash: Buffer;
}

/**
 * The first half of an append: take the audit lock and read the chain's head, both sent at once
 * (pipelined: one round trip). The lock statement runs first, and under READ COMMITTED the read
 * takes its snapshot only when it starts, after the lock is held, so it sees every append
 * committed before; nothing else can append until this transaction ends. A head is good for one
 * append in this transaction (a second one with it fails on the seq key, it cannot fork the chain).
 * A caller may start it early, beside its own reads, and hand it to `appendAudit`.
 */
export function lockAuditHead(tx: postgres.TransactionSql): Promise<AuditHead> {
  const locked = tx`SELECT pg_advisory_xact_lock(${AUDIT_LOCK})`;
  const last = tx<{ seq: string; hash: Buffer }[]>`SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1`;
  const head = Promise.all([locked, last]).then(([, [row]]) =>
    row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: GENESIS },
  );
  // Awaited later by appendAudit, which meets any failure; until then it is not an unhandled one.
  head.catch(() => {});
  return head;
}

/** Append one event inside the caller's transaction; if the transaction fails, so does the event. */
export async function appendAudit(
  tx: postgres.TransactionSql,
  event: AuditEvent,
  now = new Date(),
  head: Promise<AuditHead> = lockAuditHead(tx),
): Promise<number> {
  const last = await head;
  const stored: StoredEvent = { ...storable(event), seq: last.seq + 1, at: now.toISOString() };
  const hash = eventHash(last.hash, stored);
  await tx`INSERT INTO audit_events (seq, at, actor, action, target, reason, outcome, origin, details, prev_hash, hash)
    VALUES (${stored.seq}, ${stored.at}, ${stored.actor}, ${stored.action}, ${stored.target ?? null},
            ${stored.reason ?? null}, ${stored.outcome}, ${stored.origin ?? null},
            ${stored.details ? tx.json(stored.details) : null}, ${last.hash}, ${hash})`;
  return stored.seq;
}

export type ChainVerdict = { ok: true; events: number; head: string } | { ok: false; brokenAt: number; events: number };

export interface ChainWalk {
  /** Start after this event, trusting its hash (a verified checkpoint): walk only what follows. */
  readonly from?: { readonly seq: number; readonly hash: string };
  /** Report the hash of these events (to compare with checkpoints). */
  readonly seqs?: readonly number[];
  /** Report which of these hashes (hex) some event has (an expected head). */
  readonly hashes?: readonly string[];
}

export type WatchedChainVerdict = ChainVerdict & {
  readonly hashAt: Readonly<Record<number, string>>;
  readonly found: readonly string[];
};

/** Walk the whole chain in order; names the first event whose link or hash does not hold. */
export async function verifyAuditChain(sql: postgres.Sql): Promise<ChainVerdict>;
export async function verifyAuditChain(sql: postgres.Sql, walk: ChainWalk): Promise<WatchedChainVerdict>;
export async function verifyAuditChain(sql: postgres.Sql, walk?: ChainWalk): Promise<ChainVerdict> {
  let prev: Buffer = walk?.from ? Buffer.from(walk.from.hash, 'hex') : GENESIS;
  const start = walk?.from?.seq ?? 0;
  let expectedSeq = start + 1;
  let events = start;
  const watchSeqs = new Set(walk?.seqs ?? []);
  const watchHashes = new Set(walk?.hashes ?? []);
  const hashAt: Record<number, string> = {};
  const found: string[] = [];
  if (walk?.from && watchSeqs.has(start)) hashAt[start] = walk.from.hash;
  if (walk?.from && watchHashes.has(walk.from.hash)) found.push(walk.from.hash);
  const watched = (v: ChainVerdict): ChainVerdict => (walk ? ({ ...v, hashAt, found } as WatchedChainVerdict) : v);
  const cursor = sql<(AuditRow & { prev_hash: Buffer; hash: Buffer })[]>`
    SELECT * FROM audit_events WHERE seq > ${start} ORDER BY seq`.cursor(500);
  for await (const rows of cursor) {
    for (const row of rows) {
      const stored: StoredEvent = storedEventOf(row);
      const seq = stored.seq;
      if (seq !== expectedSeq || !row.prev_hash.equals(prev) || !eventHash(prev, stored).equals(row.hash)) {
        return watched({ ok: false, brokenAt: expectedSeq === seq ? seq : expectedSeq, events });
      }
      prev = row.hash;
      expectedSeq++;
      events++;
      if (watchSeqs.has(seq)) hashAt[seq] = prev.toString('hex');
      if (watchHashes.size > 0 && watchHashes.has(prev.toString('hex'))) found.push(prev.toString('hex'));
    }
  }
  return watched({ ok: true, events, head: prev.toString('hex') });
}
