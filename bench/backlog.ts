/**
 * A backlog of group-commit messages (version 3, `batch` records sealed under one record context
 * each), published through ingest's bus user while no vault consumes: what `bench:ingest` and
 * `bench:store` give the vault to store.
 */
import { randomUUID } from 'node:crypto';
import type { Bus } from '@coffer/bus';
import { type PublicKey, type RecipientKind, RecordSealingContext } from '@coffer/crypto';
import { encodeJson, newRecordId, type RecordBatchMessage } from '@coffer/protocol';
import { randomPan } from './pan.ts';

/** Publishes `records` records in messages of `batch`, 32 in flight; resolves once all are PubAcked. */
export async function publishBacklog(
  bus: Bus,
  key: { readonly id: string; readonly publicKey: PublicKey<RecipientKind> },
  records: number,
  batch: number,
): Promise<void> {
  const inFlight: Promise<unknown>[] = [];
  for (let done = 0; done < records; done += batch) {
    const context = RecordSealingContext.create(key.publicKey, key.id, batch);
    const sealed = Array.from({ length: Math.min(batch, records - done) }, () => {
      const id = newRecordId();
      const pan = randomPan();
      return {
        id,
        type: 'pan' as const,
        keyId: key.id,
        hint: pan.slice(-4),
        submittedAt: new Date().toISOString(),
        contextId: context.contextId,
        sealed: context.seal(id, 'pan', Buffer.from(pan)).toString('base64'),
      };
    });
    const message: RecordBatchMessage = {
      v: 3,
      batchId: randomUUID(),
      contexts: [{ id: context.contextId, keyId: key.id, enc: context.enc.toString('base64') }],
      records: sealed,
    };
    context.destroy();
    inFlight.push(bus.publishRecord(message.batchId, encodeJson(message)));
    if (inFlight.length >= 32) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
}
