/**
 * From the stream to committed rows. Each batch becomes one transaction: valid records in one
 * multi-row INSERT … ON CONFLICT (id) DO NOTHING (a redelivered record is a no-op), and anything
 * that cannot be stored goes whole to dead_letters with its reason. The bus acknowledges the batch
 * only after this resolves, so a crash in between redelivers rather than loses. With a retention
 * for its type, a record gets expires_at = the vault's receipt time + retention, and purge.ts
 * deletes it then: the submission time is ingest's word, so it never decides how long a record
 * lives. A submission time later than receipt, or well before the stream took the message, is
 * refused to dead_letters (kept whole with its reason, logged and counted), never stored.
 */
import type { RecordDelivery } from '@coffer/bus';
import { parseSealedBlob } from '@coffer/crypto';
import { decodeJson, hintFits, ProtocolError, RecordMessage, type RecordType } from '@coffer/protocol';
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

interface Row {
  id: string;
  type: string;
  data_key_id: string;
  sealed: Buffer;
  hint: string | null;
  /** Who vouches for the hint: 'ingest' saw the value, 'client' sealed it and only claims the hint. */
  hint_source: 'ingest' | 'client';
  submitted_at: string;
  expires_at: string | null;
}

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

function toRow(delivery: RecordDelivery, retention: Retention, receivedAt: Date): Row {
  const m = decodeJson(RecordMessage, delivery.data);
  if (delivery.msgId !== m.id) throw new ProtocolError('Nats-Msg-Id does not match the record id');
  const sealed = Buffer.from(m.sealed, 'base64');
  try {
    parseSealedBlob(sealed);
  } catch (err) {
    throw new ProtocolError(`sealed value is not a v1 sealed blob: ${(err as Error).message}`);
  }
  if (!hintFits(m.type, m.hint)) throw new ProtocolError('hint does not fit the record type');
  checkSubmittedAt(m.submittedAt, delivery, receivedAt);
  const days = retention[m.type];
  const expires = days ? new Date(receivedAt.getTime() + days * DAY_MS) : null;
  // A retention past the last instant a Date can hold (about 100 million days) is forever.
  const expires_at = expires && !Number.isNaN(expires.getTime()) ? expires.toISOString() : null;
  return {
    id: m.id,
    type: m.type,
    data_key_id: m.keyId,
    sealed,
    hint: m.hint,
    hint_source: m.v === 2 ? m.sealedBy : 'ingest',
    submitted_at: m.submittedAt,
    expires_at,
  };
}

export async function storeRecordBatch(
  sql: postgres.Sql,
  batch: readonly RecordDelivery[],
  retention: Retention = {},
  receivedAt: Date = new Date(),
): Promise<StoreResult> {
  const rows: Row[] = [];
  const dead: { msg_id: string | null; reason: string; payload: Buffer }[] = [];
  for (const delivery of batch) {
    try {
      rows.push(toRow(delivery, retention, receivedAt));
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      dead.push({ msg_id: delivery.msgId ?? null, reason: err.message, payload: Buffer.from(delivery.data) });
    }
  }
  const keyIds = [...new Set(rows.map((r) => r.data_key_id))];
  const known = new Set(
    keyIds.length
      ? (await sql<{ id: string }[]>`SELECT id FROM data_keys WHERE id = ANY(${keyIds})`).map((r) => r.id)
      : [],
  );
  const storable = rows.filter((r) => {
    if (known.has(r.data_key_id)) return true;
    const delivery = batch.find((d) => d.msgId === r.id);
    dead.push({ msg_id: r.id, reason: 'sealed to an unknown data key', payload: Buffer.from(delivery?.data ?? []) });
    return false;
  });
  // One message id twice in a batch (a redelivery racing the original) must not fail the INSERT.
  const unique = [...new Map(storable.map((r) => [r.id, r])).values()];
  const commit = (rows: Row[]) =>
    sql.begin(async (tx) => {
      const inserted = rows.length
        ? await tx`INSERT INTO records ${tx(rows, 'id', 'type', 'data_key_id', 'sealed', 'hint', 'hint_source', 'submitted_at', 'expires_at')}
                   ON CONFLICT (id) DO NOTHING RETURNING id`
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
  let stored = 0;
  for (const row of unique) {
    try {
      const inserted =
        await sql`INSERT INTO records ${sql([row], 'id', 'type', 'data_key_id', 'sealed', 'hint', 'hint_source', 'submitted_at', 'expires_at')}
                                 ON CONFLICT (id) DO NOTHING RETURNING id`;
      stored += inserted.length;
    } catch (err) {
      if (!isDataError(err)) throw err;
      const delivery = batch.find((d) => d.msgId === row.id);
      const reason = `refused by the database: ${(err as Error).message}`;
      dead.push({ msg_id: row.id, reason, payload: Buffer.from(delivery?.data ?? []) });
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
