/** A running ingest on the in-process bus, with a key server and a record sink, for route tests. */
import { Writable } from 'node:stream';
import { InProcessBus } from '@coffer/bus';
import { PrivateKey, signDataKeyBundle } from '@coffer/crypto';
import {
  checkJson,
  encodeJson,
  newRecordId,
  parseJson,
  RecordBatchMessage,
  RecordMessage,
  type RecordMessageV1,
} from '@coffer/protocol';
import { buildIngest } from '../src/app.ts';
import { ingestLogger } from '../src/log.ts';

/** One record as the stream carried it: its message version, its fields, its context's enc. */
export type StoredRecord = Omit<RecordMessageV1, 'v'> & {
  v: 1 | 2 | 3;
  sealedBy?: 'ingest' | 'client';
  contextId?: string;
  contextEnc?: string;
};

/** Every record of one stream message (versions 1 and 2: one record; version 3: a batch). */
export function recordsOf(data: Uint8Array): StoredRecord[] {
  const json = parseJson(data);
  if ((json as { v?: unknown }).v !== 3) return [checkJson(RecordMessage, json)];
  const batch = checkJson(RecordBatchMessage, json);
  const enc = new Map(batch.contexts.map((c) => [c.id, c.enc]));
  return batch.records.map((r) => ({ v: 3 as const, ...r, contextEnc: enc.get(r.contextId) as string }));
}

export interface IngestUnderTest {
  readonly inject: Awaited<ReturnType<typeof buildIngest>>['app']['inject'];
  /** Records as the vault would store them: each record id once, in arrival order. */
  readonly stored: StoredRecord[];
  /** How many stream messages carried them. */
  readonly messages: () => number;
  readonly logs: string[];
  readonly dataKey: PrivateKey<'x25519'>;
  readonly keyId: string;
  readonly bus: InProcessBus;
  close(): Promise<void>;
}

export async function startIngestForTest(
  options: { signWithOtherKey?: boolean; ratePerMinute?: number } = {},
): Promise<IngestUnderTest> {
  const org = PrivateKey.generate('ed25519');
  const signer = options.signWithOtherKey ? PrivateKey.generate('ed25519') : org;
  const dataKey = PrivateKey.generate('x25519');
  const now = Date.now();
  const bundle = {
    id: newRecordId(),
    publicKey: dataKey.publicKey.toBase64url(),
    notBefore: new Date(now - 60_000).toISOString(),
    notAfter: new Date(now + 86_400_000).toISOString(),
  };
  const signature = signDataKeyBundle(signer, bundle);
  const bus = new InProcessBus();
  bus.serve(bus.names.keysCurrent, async () => encodeJson({ v: 1, bundle, signature }));
  // Like the vault: a record id seen before is a no-op (a retried record may ride in two batches).
  const stored: StoredRecord[] = [];
  const seen = new Set<string>();
  let messages = 0;
  const consumer = bus.consumeRecords(async (batch) => {
    for (const d of batch) {
      messages++;
      for (const record of recordsOf(d.data)) {
        if (seen.has(record.id)) continue;
        seen.add(record.id);
        stored.push(record);
      }
    }
  }, 100);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const { app, keys } = await buildIngest({
    bus,
    trustRoot: org.publicKey,
    log: ingestLogger(sink),
    ratePerMinute: options.ratePerMinute ?? 10_000,
  });
  await keys.start();
  return {
    inject: app.inject.bind(app),
    stored,
    messages: () => messages,
    logs,
    dataKey,
    keyId: bundle.id,
    bus,
    async close() {
      await app.close();
      await consumer.stop();
      await bus.close();
    },
  };
}
