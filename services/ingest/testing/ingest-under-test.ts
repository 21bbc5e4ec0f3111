/** A running ingest on the in-process bus, with a key server and a record sink, for route tests. */
import { Writable } from 'node:stream';
import { InProcessBus } from '@coffer/bus';
import { PrivateKey, signDataKeyBundle } from '@coffer/crypto';
import { decodeJson, encodeJson, newRecordId, RecordMessage } from '@coffer/protocol';
import { buildIngest } from '../src/app.ts';
import { ingestLogger } from '../src/log.ts';

export interface IngestUnderTest {
  readonly inject: Awaited<ReturnType<typeof buildIngest>>['app']['inject'];
  readonly stored: RecordMessage[];
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
  const stored: RecordMessage[] = [];
  const consumer = bus.consumeRecords(async (batch) => {
    for (const d of batch) stored.push(decodeJson(RecordMessage, d.data));
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
