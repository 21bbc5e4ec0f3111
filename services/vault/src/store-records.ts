/**
 * From the stream to committed rows. Each batch becomes one transaction: valid records in one
 * multi-row INSERT … ON CONFLICT (id) DO NOTHING (a redelivered record is a no-op), and anything
 * that cannot be stored goes whole to dead_letters with its reason. The bus acknowledges the batch
 * only after this resolves, so a crash in between redelivers rather than loses.
 */
import type { RecordDelivery } from '@coffer/bus';
import { parseSealedBlob } from '@coffer/crypto';
import { decodeJson, ProtocolError, RecordMessage } from '@coffer/protocol';
import type postgres from 'postgres';

export interface StoreResult {
  readonly stored: number;
  readonly duplicates: number;
  readonly deadLetters: number;
}

interface Row {
  id: string;
  type: string;
  data_key_id: string;
  sealed: Buffer;
  hint: string | null;
  submitted_at: string;
}

function toRow(delivery: RecordDelivery): Row {
  const m = decodeJson(RecordMessage, delivery.data);
  if (delivery.msgId !== m.id) throw new ProtocolError('Nats-Msg-Id does not match the record id');
  const sealed = Buffer.from(m.sealed, 'base64');
  try {
    parseSealedBlob(sealed);
  } catch (err) {
    throw new ProtocolError(`sealed value is not a v1 sealed blob: ${(err as Error).message}`);
  }
  if ((m.type === 'secret') !== (m.hint === null)) throw new ProtocolError('hint does not fit the record type');
  return { id: m.id, type: m.type, data_key_id: m.keyId, sealed, hint: m.hint, submitted_at: m.submittedAt };
}

export async function storeRecordBatch(sql: postgres.Sql, batch: readonly RecordDelivery[]): Promise<StoreResult> {
  const rows: Row[] = [];
  const dead: { msg_id: string | null; reason: string; payload: Buffer }[] = [];
  for (const delivery of batch) {
    try {
      rows.push(toRow(delivery));
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
  return sql.begin(async (tx) => {
    const inserted = unique.length
      ? await tx`INSERT INTO records ${tx(unique, 'id', 'type', 'data_key_id', 'sealed', 'hint', 'submitted_at')}
                 ON CONFLICT (id) DO NOTHING RETURNING id`
      : [];
    if (dead.length) {
      await tx`INSERT INTO dead_letters ${tx(dead, 'msg_id', 'reason', 'payload')} ON CONFLICT DO NOTHING`;
    }
    return { stored: inserted.length, duplicates: storable.length - inserted.length, deadLetters: dead.length };
  });
}
