/**
 * From the stream to committed rows. A stream message is one record (version 1) or a batch of
 * records sealed under record contexts (version 2, ingest's group commit); each fetch of messages
 * becomes one transaction: contexts first, then valid records in one
 * multi-row INSERT … ON CONFLICT (id) DO NOTHING (a redelivered record is a no-op), and anything
 * that cannot be stored goes whole to dead_letters with its reason. The bus acknowledges the batch
 * only after this resolves, so a crash in between redelivers rather than loses. With a retention
 * for its type, a record gets expires_at = submitted_at + retention, and purge.ts deletes it then.
 */
import type { RecordDelivery } from '@coffer/bus';
import { parseRecordBlob } from '@coffer/crypto';
import {
  checkJson,
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

interface Row {
  id: string;
  type: string;
  data_key_id: string;
  context_id: string | null;
  sealed: Buffer;
  hint: string | null;
  submitted_at: string;
  expires_at: string | null;
  /** What goes to dead_letters if this row cannot be stored. */
  payload: Buffer;
}

interface ContextRow {
  id: string;
  data_key_id: string;
  enc: Buffer;
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

function toRow(m: RecordFields, contextId: string | null, retention: Retention, payload: Buffer): Row {
  const sealed = Buffer.from(m.sealed, 'base64');
  let blob: ReturnType<typeof parseRecordBlob>;
  try {
    blob = parseRecordBlob(sealed);
  } catch (err) {
    throw new ProtocolError(`sealed value is not a record blob: ${(err as Error).message}`);
  }
  if ((blob.version === 2) !== (contextId !== null)) throw new ProtocolError('blob version does not fit the message');
  if (blob.version === 2 && blob.contextId !== contextId) throw new ProtocolError('blob names another context');
  if ((m.type === 'secret') !== (m.hint === null)) throw new ProtocolError('hint does not fit the record type');
  if (Number.isNaN(Date.parse(m.submittedAt)) || new Date(m.submittedAt).toISOString() !== m.submittedAt) {
    throw new ProtocolError('submittedAt is not a real instant');
  }
  const days = retention[m.type];
  const expires = days ? new Date(Date.parse(m.submittedAt) + days * DAY_MS) : null;
  // A retention past the last instant a Date can hold (about 100 million days) is forever.
  const expires_at = expires && !Number.isNaN(expires.getTime()) ? expires.toISOString() : null;
  return {
    id: m.id,
    type: m.type,
    data_key_id: m.keyId,
    context_id: contextId,
    sealed,
    hint: m.hint,
    submitted_at: m.submittedAt,
    expires_at,
    payload,
  };
}

/**
 * One delivery: a version-1 message (one record, Nats-Msg-Id = its id) or a version-2 batch
 * (Nats-Msg-Id = batch id). A record that does not check out is dead-lettered alone; the rest of
 * its batch is stored.
 */
function parseDelivery(delivery: RecordDelivery, retention: Retention): Parsed {
  const data = Buffer.from(delivery.data);
  const dead = (reason: string, payload = data, msgId = delivery.msgId ?? null): Parsed => ({
    rows: [],
    contexts: [],
    dead: [{ msg_id: msgId, reason, payload }],
  });
  try {
    const json = parseJson(delivery.data);
    if ((json as { v?: unknown } | null)?.v !== 2) {
      const m = checkJson(RecordMessage, json);
      if (delivery.msgId !== m.id) throw new ProtocolError('Nats-Msg-Id does not match the record id');
      return { rows: [toRow(m, null, retention, data)], contexts: [], dead: [] };
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
        parsed.rows.push(toRow(record, record.contextId, retention, payload));
        used.add(record.contextId);
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err;
        parsed.dead.push({ msg_id: record.id, reason: err.message, payload });
      }
    }
    for (const id of used) {
      const c = contexts.get(id) as (typeof batch.contexts)[number];
      parsed.contexts.push({ id: c.id, data_key_id: c.keyId, enc: Buffer.from(c.enc, 'base64') });
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
): Promise<StoreResult> {
  const rows: Row[] = [];
  const contexts = new Map<string, ContextRow>();
  const dead: DeadLetter[] = [];
  for (const delivery of batch) {
    const parsed = parseDelivery(delivery, retention);
    rows.push(...parsed.rows);
    dead.push(...parsed.dead);
    for (const c of parsed.contexts) contexts.set(c.id, c);
  }
  const keyIds = [...new Set(rows.map((r) => r.data_key_id))];
  const known = new Set(
    keyIds.length
      ? (await sql<{ id: string }[]>`SELECT id FROM data_keys WHERE id = ANY(${keyIds})`).map((r) => r.id)
      : [],
  );
  const storable = rows.filter((r) => {
    if (known.has(r.data_key_id)) return true;
    dead.push({ msg_id: r.id, reason: 'sealed to an unknown data key', payload: r.payload });
    return false;
  });
  const liveContexts = [...contexts.values()].filter((c) => known.has(c.data_key_id));
  // One message id twice in a batch (a redelivery racing the original) must not fail the INSERT.
  const unique = [...new Map(storable.map((r) => [r.id, r])).values()];
  const columns = ['id', 'type', 'data_key_id', 'context_id', 'sealed', 'hint', 'submitted_at', 'expires_at'] as const;
  const commit = (rows: Row[]) =>
    sql.begin(async (tx) => {
      if (liveContexts.length) {
        // A context id is random: one seen before is the same context, its enc already stored.
        await tx`INSERT INTO record_contexts ${tx(liveContexts, 'id', 'data_key_id', 'enc')} ON CONFLICT (id) DO NOTHING`;
      }
      const inserted = rows.length
        ? await tx`INSERT INTO records ${tx(rows, ...columns)} ON CONFLICT (id) DO NOTHING RETURNING id`
        : [];
      if (dead.length) {
        await tx`INSERT INTO dead_letters ${tx(dead, 'msg_id', 'reason', 'payload')} ON CONFLICT DO NOTHING`;
      }
      return { stored: inserted.length, duplicates: storable.length - inserted.length, deadLetters: dead.length };
    });
  try {
    return await commit(unique);
  } catch (err) {
    if (!isDataError(err)) throw err; // the database is down: let the bus redeliver the batch
  }
  // One row the database refuses must not stall the stream: store row by row, dead-letter it.
  if (liveContexts.length) {
    await sql`INSERT INTO record_contexts ${sql(liveContexts, 'id', 'data_key_id', 'enc')} ON CONFLICT (id) DO NOTHING`;
  }
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

/** PostgreSQL error classes 22 (data exception) and 23 (integrity constraint): the row, not the database. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
