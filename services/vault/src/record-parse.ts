/**
 * A stream delivery checked and turned into rows (store-records.ts writes them): a version-1 or -2
 * message is one record, a version-3 message a batch of records sealed under record contexts
 * (ingest's group commit). What does not check out becomes a dead letter with its reason — a bad
 * record of a batch alone, the rest of its batch stays storable. With a retention for its type, a
 * record gets expires_at = the vault's receipt time + retention: the submission time is ingest's
 * word, so it never decides how long a record lives. A submission time later than receipt, or well
 * before the stream took the message, is refused.
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

/** Days to keep each record type; a type left out (or null) is kept forever. */
export type Retention = Readonly<Partial<Record<RecordType, number | null>>>;

const DAY_MS = 24 * 60 * 60 * 1000;
/** Clock difference tolerated between ingest, the bus and the vault. */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface Row {
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
  /** What goes to dead_letters if this row cannot be stored; made only then (JSON per record is costly). */
  payload: () => Buffer;
  /** The suite the blob names (not a column): it must be its data key's. */
  suite: RecipientKind;
}

/** Bytes of a record context's enc in each suite. */
const ENC_LENGTH: Record<RecipientKind, number> = { x25519: 32, xwing: 1120 };

export interface ContextRow {
  id: string;
  data_key_id: string;
  enc: Buffer;
  enc_sha256: Buffer;
}

export interface DeadLetter {
  msg_id: string | null;
  reason: string;
  payload: Buffer;
}

export interface Parsed {
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
  payload: () => Buffer,
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

/** A version-3 batch: each record checked against the contexts the batch carries. */
function parseBatch(batch: RecordBatchMessage, at: Received): Parsed {
  const contexts = new Map(batch.contexts.map((c) => [c.id, c]));
  if (contexts.size !== batch.contexts.length) throw new ProtocolError('a context is listed twice');
  const parsed: Parsed = { rows: [], contexts: [], dead: [] };
  // Each context's enc decoded and hashed once, not once per record.
  const encs = new Map<string, { enc: Buffer; sha256: Buffer }>();
  for (const record of batch.records) {
    const payload = () => Buffer.from(JSON.stringify({ batchId: batch.batchId, record }));
    try {
      const context = contexts.get(record.contextId);
      if (!context) throw new ProtocolError('record names a context the batch does not carry');
      if (context.keyId !== record.keyId) throw new ProtocolError('record and its context name different keys');
      let enc = encs.get(context.id);
      if (!enc) {
        const bytes = Buffer.from(context.enc, 'base64');
        enc = { enc: bytes, sha256: createHash('sha256').update(bytes).digest() };
        encs.set(context.id, enc);
      }
      const row = toRow(record, { id: record.contextId, encSha256: enc.sha256 }, 'ingest', at, payload);
      if (enc.enc.length !== ENC_LENGTH[row.suite]) {
        throw new ProtocolError("the context's enc does not fit the record's suite");
      }
      parsed.rows.push(row);
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      parsed.dead.push({ msg_id: record.id, reason: err.message, payload: payload() });
    }
  }
  const used = new Set(parsed.rows.map((r) => r.context_id as string));
  for (const id of used) {
    const c = contexts.get(id) as (typeof batch.contexts)[number];
    const enc = encs.get(id) as { enc: Buffer; sha256: Buffer };
    parsed.contexts.push({ id: c.id, data_key_id: c.keyId, enc: enc.enc, enc_sha256: enc.sha256 });
  }
  return parsed;
}

/**
 * One delivery: a version-1 or -2 message (one record, Nats-Msg-Id = its id) or a version-3 batch
 * (Nats-Msg-Id = batch id).
 */
export function parseDelivery(delivery: RecordDelivery, retention: Retention, receivedAt: Date): Parsed {
  const at: Received = { delivery, retention, receivedAt };
  const whole = () => Buffer.from(delivery.data);
  try {
    const json = parseJson(delivery.data);
    if ((json as { v?: unknown } | null)?.v !== 3) {
      const m = checkJson(RecordMessage, json);
      if (delivery.msgId !== m.id) throw new ProtocolError('Nats-Msg-Id does not match the record id');
      const hintSource = m.v === 2 ? m.sealedBy : 'ingest';
      return { rows: [toRow(m, null, hintSource, at, whole)], contexts: [], dead: [] };
    }
    const batch = checkJson(RecordBatchMessage, json);
    if (delivery.msgId !== batch.batchId) throw new ProtocolError('Nats-Msg-Id does not match the batch id');
    return parseBatch(batch, at);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    return {
      rows: [],
      contexts: [],
      dead: [{ msg_id: delivery.msgId ?? null, reason: err.message, payload: whole() }],
    };
  }
}
