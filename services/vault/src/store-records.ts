/**
 * From the stream to committed rows. A stream message is one record (versions 1 and 2) or a batch
 * of records sealed under record contexts (version 3, ingest's group commit); each fetch of
 * messages becomes one transaction: contexts first, then valid records in one multi-row
 * INSERT … ON CONFLICT (id) DO NOTHING (a redelivered record, or one retried into two batches, is
 * a no-op), and anything that cannot be stored goes whole to dead_letters with its reason (a bad
 * record of a batch alone). The bus acknowledges the fetch only after this resolves, so a crash in
 * between redelivers rather than loses. With a retention for its type, a record gets expires_at =
 * the vault's receipt time + retention, and purge.ts deletes it then: the submission time is
 * ingest's word, so it never decides how long a record lives. A submission time later than
 * receipt, or well before the stream took the message, is refused to dead_letters (kept whole with
 * its reason, logged and counted), never stored.
 */
import { createHash } from 'node:crypto';
import type { RecordDelivery } from '@coffer/bus';
import { parseRecordBlob, type RecipientKind, recipientKindOf } from '@coffer/crypto';
import {
  checkJson,
  hintFits,
  ProtocolError,
  parseJson,
  RecordBatchMessage,
  RecordMessage,
  type RecordType,
} from '@coffer/protocol';
import type postgres from 'postgres';

export interface StoreResult {
  readonly stored: number;
  readonly duplicates: number;
  readonly deadLetters: number;
}

/** Days to keep each record type; a type left out (or null) is kept forever. */
export type Retention = Readonly<Partial<Record<RecordType, number | null>>>;

const DAY_MS = 24 * 60 * 60 * 1000;
/** Clock difference tolerated between ingest, the bus and the vault. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** Rows per INSERT: 9 parameters each stays well under PostgreSQL's 65,535 per statement. */
const INSERT_ROWS = 5000;

interface Row {
  id: string;
  type: string;
  data_key_id: string;
  context_id: string | null;
  /** SHA-256 of the enc the record was sealed under: which of an id's contexts opens it. */
  context_enc_sha256: Buffer | null;
  sealed: Buffer;
  hint: string | null;
  /** Who vouches for the hint: 'ingest' saw the value, 'client' sealed it and only claims the hint. */
  hint_source: 'ingest' | 'client';
  submitted_at: string;
  expires_at: string | null;
  /** What goes to dead_letters if this row cannot be stored. */
  payload: Buffer;
  /** The suite the blob names (not a column): it must be its data key's. */
  suite: RecipientKind;
}

/** Bytes of a record context's enc in each suite. */
const ENC_LENGTH: Record<RecipientKind, number> = { x25519: 32, xwing: 1120 };

interface ContextRow {
  id: string;
  data_key_id: string;
  enc: Buffer;
  enc_sha256: Buffer;
}

interface DeadLetter {
  msg_id: string | null;
  reason: string;
  payload: Buffer;
}

interface Parsed {
  rows: Row[];
  contexts: ContextRow[];
  dead: DeadLetter[];
}

type RecordFields = Pick<RecordMessage, 'id' | 'type' | 'keyId' | 'hint' | 'submittedAt' | 'sealed'>;

/** Throws unless `submittedAt` is plausible for a message received now (and streamed when the bus says). */
function checkSubmittedAt(submittedAt: string, delivery: RecordDelivery, receivedAt: Date): void {
  const at = Date.parse(submittedAt);
  if (Number.isNaN(at) || new Date(at).toISOString() !== submittedAt) {
    throw new ProtocolError('submittedAt is not a real instant');
  }
  if (at > receivedAt.getTime() + MAX_CLOCK_SKEW_MS) {
    throw new ProtocolError('submittedAt is later than the vault received the record');
  }
  // Ingest stamps a record just before publishing it, so the stream's own time bounds it from below
  // however long the record then waited for the vault (an outage may leave a backlog of days).
  const streamed = delivery.streamedAt?.getTime();
  if (streamed !== undefined && !Number.isNaN(streamed) && at < streamed - MAX_CLOCK_SKEW_MS) {
    throw new ProtocolError('submittedAt is well before the stream took the record');
  }
}

interface Received {
  readonly delivery: RecordDelivery;
  readonly retention: Retention;
  readonly receivedAt: Date;
}

function toRow(
  m: RecordFields,
  context: { readonly id: string; readonly encSha256: Buffer } | null,
  hintSource: Row['hint_source'],
  at: Received,
  payload: Buffer,
): Row {
  const sealed = Buffer.from(m.sealed, 'base64');
  let blob: ReturnType<typeof parseRecordBlob>;
  try {
    blob = parseRecordBlob(sealed, ['x25519', 'xwing']);
  } catch (err) {
    throw new ProtocolError(`sealed value is not a record blob: ${(err as Error).message}`);
  }
  const contextId = context?.id ?? null;
  if ((blob.version === 2) !== (contextId !== null)) throw new ProtocolError('blob version does not fit the message');
  if (blob.version === 2 && blob.contextId !== contextId) throw new ProtocolError('blob names another context');
  if (!hintFits(m.type, m.hint)) throw new ProtocolError('hint does not fit the record type');
  checkSubmittedAt(m.submittedAt, at.delivery, at.receivedAt);
  const days = at.retention[m.type];
  const expires = days ? new Date(at.receivedAt.getTime() + days * DAY_MS) : null;
  // A retention past the last instant a Date can hold (about 100 million days) is forever.
  const expires_at = expires && !Number.isNaN(expires.getTime()) ? expires.toISOString() : null;
  return {
    id: m.id,
    type: m.type,
    data_key_id: m.keyId,
    context_id: contextId,
    context_enc_sha256: context?.encSha256 ?? null,
    sealed,
    hint: m.hint,
    hint_source: hintSource,
    submitted_at: m.submittedAt,
    expires_at,
    payload,
    suite: recipientKindOf(blob.suite),
  };
}

/**
 * One delivery: a version-1 or -2 message (one record, Nats-Msg-Id = its id) or a version-3 batch
 * (Nats-Msg-Id = batch id). A record that does not check out is dead-lettered alone; the rest of
 * its batch is stored.
 */
function parseDelivery(delivery: RecordDelivery, retention: Retention, receivedAt: Date): Parsed {
  const at: Received = { delivery, retention, receivedAt };
  const data = Buffer.from(delivery.data);
  const dead = (reason: string, payload = data, msgId = delivery.msgId ?? null): Parsed => ({
    rows: [],
    contexts: [],
    dead: [{ msg_id: msgId, reason, payload }],
  });
  try {
    const json = parseJson(delivery.data);
    if ((json as { v?: unknown } | null)?.v !== 3) {
      const m = checkJson(RecordMessage, json);
      if (delivery.msgId !== m.id) throw new ProtocolError('Nats-Msg-Id does not match the record id');
      const hintSource = m.v === 2 ? m.sealedBy : 'ingest';
      return { rows: [toRow(m, null, hintSource, at, data)], contexts: [], dead: [] };
    }
    const batch = checkJson(RecordBatchMessage, json);
    if (delivery.msgId !== batch.batchId) throw new ProtocolError('Nats-Msg-Id does not match the batch id');
    const contexts = new Map(batch.contexts.map((c) => [c.id, c]));
    if (contexts.size !== batch.contexts.length) throw new ProtocolError('a context is listed twice');
    const parsed: Parsed = { rows: [], contexts: [], dead: [] };
    const used = new Set<string>();
    for (const record of batch.records) {
      const payload = Buffer.from(JSON.stringify({ batchId: batch.batchId, record }));
      try {
        const context = contexts.get(record.contextId);
        if (!context) throw new ProtocolError('record names a context the batch does not carry');
        if (context.keyId !== record.keyId) throw new ProtocolError('record and its context name different keys');
        const enc = Buffer.from(context.enc, 'base64');
        const encSha256 = createHash('sha256').update(enc).digest();
        const row = toRow(record, { id: record.contextId, encSha256 }, 'ingest', at, payload);
        if (enc.length !== ENC_LENGTH[row.suite]) {
          throw new ProtocolError("the context's enc does not fit the record's suite");
        }
        parsed.rows.push(row);
        used.add(record.contextId);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        parsed.dead.push({ msg_id: record.id, reason: err.message, payload });
      }
    }
    for (const id of used) {
      const c = contexts.get(id) as (typeof batch.contexts)[number];
      const enc = Buffer.from(c.enc, 'base64');
      parsed.contexts.push({
        id: c.id,
        data_key_id: c.keyId,
        enc,
        enc_sha256: createHash('sha256').update(enc).digest(),
      });
    }
    return parsed;
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return dead(err.message);
  }
}

export async function storeRecordBatch(
  sql: postgres.Sql,
  batch: readonly RecordDelivery[],
  retention: Retention = {},
  receivedAt: Date = new Date(),
): Promise<StoreResult> {
  const rows: Row[] = [];
  const contexts = new Map<string, ContextRow>();
  const dead: DeadLetter[] = [];
  for (const delivery of batch) {
    const parsed = parseDelivery(delivery, retention, receivedAt);
    rows.push(...parsed.rows);
    dead.push(...parsed.dead);
    // Keyed by id and enc: a forged context with a genuine id must not displace the genuine one.
    for (const c of parsed.contexts) contexts.set(`${c.id}/${c.enc_sha256.toString('hex')}`, c);
  }
  const keyIds = [...new Set(rows.map((r) => r.data_key_id))];
  // Each data key's suite as its signed bundle names it (none: X25519, canonical v1).
  const keySuites = new Map(
    keyIds.length
      ? (
          await sql<{ id: string; suite: RecipientKind | null }[]>`
            SELECT id, bundle->>'suite' AS suite FROM data_keys WHERE id = ANY(${keyIds})`
        ).map((r) => [r.id, r.suite ?? 'x25519'])
      : [],
  );
  const known = new Set(keySuites.keys());
  const storable = rows.filter((r) => {
    const keySuite = keySuites.get(r.data_key_id);
    if (keySuite === r.suite) return true;
    const reason = keySuite ? `sealed as ${r.suite} to a ${keySuite} data key` : 'sealed to an unknown data key';
    dead.push({ msg_id: r.id, reason, payload: r.payload });
    return false;
  });
  const liveContexts = [...contexts.values()].filter((c) => known.has(c.data_key_id));
  // One message id twice in a batch (a redelivery racing the original) must not fail the INSERT.
  const unique = [...new Map(storable.map((r) => [r.id, r])).values()];
  const columns = [
    'id',
    'type',
    'data_key_id',
    'context_id',
    'context_enc_sha256',
    'sealed',
    'hint',
    'hint_source',
    'submitted_at',
    'expires_at',
  ] as const;
  const commit = (rows: Row[]) =>
    sql.begin(async (tx) => {
      if (liveContexts.length) await storeContexts(tx, liveContexts);
      // In slices: one INSERT binds at most 65,535 parameters (10 a row), and a backlog fetched
      // 500 group-commit messages at a time holds up to 128,000 rows. Unsliced, such a fetch
      // failed every time it was redelivered and the stream never drained (issue 14, bench:ingest).
      let inserted = 0;
      for (let i = 0; i < rows.length; i += INSERT_ROWS) {
        const slice = rows.slice(i, i + INSERT_ROWS);
        inserted += (await tx`INSERT INTO records ${tx(slice, ...columns)} ON CONFLICT (id) DO NOTHING RETURNING id`)
          .length;
      }
      if (dead.length) {
        await tx`INSERT INTO dead_letters ${tx(dead, 'msg_id', 'reason', 'payload')} ON CONFLICT DO NOTHING`;
      }
      return { stored: inserted, duplicates: storable.length - inserted, deadLetters: dead.length };
    });
  try {
    return await commit(unique);
  } catch (err) {
    if (!isDataError(err)) throw err; // the database is down: let the bus redeliver the batch
  }
  // One row the database refuses must not stall the stream: store row by row, dead-letter it.
  if (liveContexts.length) await storeContexts(sql, liveContexts);
  let stored = 0;
  for (const row of unique) {
    try {
      const inserted =
        await sql`INSERT INTO records ${sql([row], ...columns)} ON CONFLICT (id) DO NOTHING RETURNING id`;
      stored += inserted.length;
    } catch (err) {
      if (!isDataError(err)) throw err;
      const reason = `refused by the database: ${(err as Error).message}`;
      dead.push({ msg_id: row.id, reason, payload: row.payload });
    }
  }
  await sql`INSERT INTO dead_letters ${sql(dead, 'msg_id', 'reason', 'payload')} ON CONFLICT DO NOTHING`;
  const refused = dead.filter((d) => d.reason.startsWith('refused by the database')).length;
  return { stored, duplicates: storable.length - refused - stored, deadLetters: dead.length };
}

/**
 * A context is kept by (id, SHA-256 of enc), and each record names the digest it was sealed
 * under: one stored before with the same id and another enc (a forged batch published first) is a
 * different context and never opens, or blocks, the genuine records. record_contexts keeps the
 * first row per id as before, for the records stored before migration 012 and the previous vault.
 */
async function storeContexts(sql: postgres.Sql | postgres.TransactionSql, contexts: ContextRow[]): Promise<void> {
  const legacy = contexts.map(({ id, data_key_id, enc }) => ({ id, data_key_id, enc }));
  await sql`INSERT INTO record_contexts ${sql(legacy, 'id', 'data_key_id', 'enc')} ON CONFLICT (id) DO NOTHING`;
  const rows = contexts.map((c) => ({
    context_id: c.id,
    enc_sha256: c.enc_sha256,
    data_key_id: c.data_key_id,
    enc: c.enc,
  }));
  await sql`INSERT INTO record_context_encs ${sql(rows, 'context_id', 'enc_sha256', 'data_key_id', 'enc')}
    ON CONFLICT (context_id, enc_sha256) DO NOTHING`;
}

/** PostgreSQL error classes 22 (data exception) and 23 (integrity constraint): the row, not the database. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
