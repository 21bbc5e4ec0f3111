/**
 * From the stream to committed rows. Each batch of deliveries (record-parse.ts checks them)
 * becomes: its record contexts, committed on their own first, then one transaction of the valid
 * records in INSERT … ON CONFLICT (id) DO NOTHING (store-insert.ts; a redelivered record, or one retried
 * into two batches, is a no-op) and the dead letters (anything that cannot be stored, kept whole
 * with its reason). The bus acknowledges a batch only after this resolves, so a crash in between
 * redelivers rather than loses; the NATS bus stores a few batches at once (nats-bus.ts), which is
 * why contexts go first: the next batch carries the same context, and its transaction would
 * otherwise wait on this one's uncommitted context row. A context stored without its records
 * (this batch then failing) is harmless: it opens nothing by itself, and the redelivery needs it.
 */
import type { RecordDelivery } from '@coffer/bus';
import type { RecipientKind } from '@coffer/crypto';
import type postgres from 'postgres';
import {
  type ContextRow,
  type DeadLetter,
  MAX_CLOCK_SKEW_MS,
  parseDelivery,
  type Retention,
  type Row,
} from './record-parse.ts';
import { insertRows } from './store-insert.ts';

export { MAX_CLOCK_SKEW_MS, type Retention } from './record-parse.ts';

export interface StoreResult {
  readonly stored: number;
  readonly duplicates: number;
  readonly deadLetters: number;
}

/**
 * Rows per INSERT: each statement's column arrays are strings until sent, so smaller statements
 * keep the vault's memory down; the statements of a batch are pipelined (one round trip).
 */
const INSERT_ROWS = 2000;

interface Prepared {
  /** Valid rows of known data keys, one per id, in id order (concurrent batches lock alike). */
  readonly rows: Row[];
  /** Rows before de-duplication within the batch: the duplicates count against them. */
  readonly storable: number;
  readonly contexts: ContextRow[];
  readonly dead: DeadLetter[];
}

/**
 * How far a data key's window may begin after the vault's receipt time and still take records: a
 * rotation's first window may begin this far from the vault's clock (ROTATE_SKEW_MS, keys.ts), and
 * an ingest whose clock agrees with the admin plane's seals to it at once. Further ahead, only a
 * forger seals to a key: a record under it would keep the key alive through a revocation, which
 * destroys the keys of windows not yet begun only while no record or context uses them.
 */
const KEY_START_SKEW_MS = MAX_CLOCK_SKEW_MS;

/** Why a row cannot be stored under its data key, or null: unknown, another suite, not yet begun. */
function keyRefusal(row: Row, key: { suite: RecipientKind; begun: boolean } | undefined): string | null {
  if (!key) return 'sealed to an unknown data key';
  if (key.suite !== row.suite) return `sealed as ${row.suite} to a ${key.suite} data key`;
  if (!key.begun) return `sealed to data key ${row.data_key_id}, whose window begins after the vault received it`;
  return null;
}

/** Parse every delivery, and check each row against its data key: suite, and window begun. */
async function prepare(
  sql: postgres.Sql,
  batch: readonly RecordDelivery[],
  retention: Retention,
  receivedAt: Date,
): Promise<Prepared> {
  const rows: Row[] = [];
  const contexts = new Map<string, ContextRow>();
  const dead: DeadLetter[] = [];
  for (const delivery of batch) {
    const parsed = parseDelivery(delivery, retention, receivedAt);
    for (const row of parsed.rows) rows.push(row);
    for (const d of parsed.dead) dead.push(d);
    // Keyed by id and enc: a forged context with a genuine id must not displace the genuine one.
    for (const c of parsed.contexts) contexts.set(`${c.id}/${c.enc_sha256.toString('hex')}`, c);
  }
  const keyIds = [...new Set(rows.map((r) => r.data_key_id))];
  // Each data key's suite as its signed bundle names it (none: X25519, canonical v1), and whether
  // its window had begun when the vault received the batch.
  const keys = new Map(
    keyIds.length
      ? (
          await sql<{ id: string; suite: RecipientKind | null; not_before: Date }[]>`
            SELECT id, bundle->>'suite' AS suite, not_before FROM data_keys WHERE id = ANY(${keyIds})`
        ).map((r) => [
          r.id,
          { suite: r.suite ?? 'x25519', begun: r.not_before.getTime() <= receivedAt.getTime() + KEY_START_SKEW_MS },
        ])
      : [],
  );
  const storable = rows.filter((r) => {
    const reason = keyRefusal(r, keys.get(r.data_key_id));
    if (!reason) return true;
    dead.push({ msg_id: r.id, reason, payload: r.payload() });
    return false;
  });
  // One message id twice in a batch (a redelivery racing the original) must not fail the INSERT.
  const unique = [...new Map(storable.map((r) => [r.id, r])).values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  // A context of a key not yet begun is refused with its records: only they name it.
  const live = [...contexts.values()].filter((c) => keys.get(c.data_key_id)?.begun === true);
  return { rows: unique, storable: storable.length, contexts: live, dead };
}

export async function storeRecordBatch(
  sql: postgres.Sql,
  batch: readonly RecordDelivery[],
  retention: Retention = {},
  receivedAt: Date = new Date(),
): Promise<StoreResult> {
  const { rows, storable, contexts, dead } = await prepare(sql, batch, retention, receivedAt);
  if (contexts.length) await storeContexts(sql, contexts);
  try {
    return await sql.begin(async (tx) => {
      // Issued together, so postgres.js pipelines them: one round trip for the whole batch.
      const statements: Promise<{ count: number }>[] = [];
      for (let i = 0; i < rows.length; i += INSERT_ROWS)
        statements.push(insertRows(tx, rows.slice(i, i + INSERT_ROWS)));
      if (dead.length) {
        statements.push(tx`INSERT INTO dead_letters ${tx(dead, 'msg_id', 'reason', 'payload')} ON CONFLICT DO NOTHING`);
      }
      const counts = await Promise.all(statements);
      const inserted = counts.slice(0, counts.length - (dead.length ? 1 : 0)).reduce((n, r) => n + r.count, 0);
      return { stored: inserted, duplicates: storable - inserted, deadLetters: dead.length };
    });
  } catch (err) {
    if (!isDataError(err)) throw err; // the database is down: let the bus redeliver the batch
  }
  // One row the database refuses must not stall the stream: store row by row, dead-letter it.
  let stored = 0;
  for (const row of rows) {
    try {
      stored += (await insertRows(sql, [row])).count;
    } catch (err) {
      if (!isDataError(err)) throw err;
      const reason = `refused by the database: ${(err as Error).message}`;
      dead.push({ msg_id: row.id, reason, payload: row.payload() });
    }
  }
  await sql`INSERT INTO dead_letters ${sql(dead, 'msg_id', 'reason', 'payload')} ON CONFLICT DO NOTHING`;
  const refused = dead.filter((d) => d.reason.startsWith('refused by the database')).length;
  return { stored, duplicates: storable - refused - stored, deadLetters: dead.length };
}

/**
 * A context is kept by (id, SHA-256 of enc), and each record names the digest it was sealed
 * under: one stored before with the same id and another enc (a forged batch published first) is a
 * different context and never opens, or blocks, the genuine records. record_contexts keeps the
 * first row per id as before, for the records stored before migration 012 and the previous vault.
 */
async function storeContexts(sql: postgres.Sql, contexts: ContextRow[]): Promise<void> {
  // Sorted by id, so that two batches storing the same contexts at once lock them in one order.
  // Stable: of two contexts with one id (a forgery and the genuine one), the first in the fetch
  // still takes the id's record_contexts row, as before.
  const sorted = [...contexts].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const legacy = sorted.map(({ id, data_key_id, enc }) => ({ id, data_key_id, enc }));
  const rows = sorted.map((c) => ({
    context_id: c.id,
    enc_sha256: c.enc_sha256,
    data_key_id: c.data_key_id,
    enc: c.enc,
  }));
  // One statement, so one round trip and one commit for both tables.
  await sql`
    WITH legacy AS (
      INSERT INTO record_contexts ${sql(legacy, 'id', 'data_key_id', 'enc')} ON CONFLICT (id) DO NOTHING
    )
    INSERT INTO record_context_encs ${sql(rows, 'context_id', 'enc_sha256', 'data_key_id', 'enc')}
    ON CONFLICT (context_id, enc_sha256) DO NOTHING`;
}

/** PostgreSQL error classes 22 (data exception) and 23 (integrity constraint): the row, not the database. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
