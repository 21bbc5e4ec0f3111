/**
 * The vault's record consumer on JetStream: fetch, store and acknowledge, overlapped. While up to
 * `inFlight` fetched batches are being stored (IN_FLIGHT unless the vault is configured otherwise),
 * the next fetch is already under way, so the database, the vault's parsing and the bus work at
 * once instead of in turn: a batch's commit waits on the disk and its INSERT on PostgreSQL, and
 * the vault parses the next batches meanwhile. Each batch is
 * acknowledged only after `handle` resolved for it (its transaction committed) and negatively
 * acknowledged when it threw (redelivered a second later); batches are independent, so one failing
 * neither holds up nor loses another, and a record delivered twice is a no-op for the store.
 *
 * A fetch asks for as many messages as make about FETCH_BYTES at the size of the last fetch's
 * messages (at most `batchSize`): a group-commit message carries up to 256 records, and a backlog
 * fetched 500 messages at a time was 128,000 records parsed in memory at once. (The client's own
 * byte bound does not do: on nats-server 2.9 a fetch bounded by bytes that fills its message count
 * ends only after missed heartbeats, 1.5 s later.)
 */
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { RecordConsumer, RecordDelivery } from './bus.ts';

/** Raw message bytes one fetch aims at; parsed records take several times this. */
export const FETCH_BYTES = 1024 * 1024;
/** Batches being stored at once by default (each its own transaction), besides the fetch under way. */
export const IN_FLIGHT = 4;
/** Messages the first fetch asks for, before their size is known. */
const FIRST_FETCH = 16;

export interface ConsumerSource {
  consumer(): Promise<Consumer>;
  isClosed(): boolean;
  log?: ((event: string) => void) | undefined;
}

const toDelivery = (m: JsMsg): RecordDelivery => ({
  data: m.data,
  msgId: m.headers?.get('Nats-Msg-Id'),
  streamedAt: new Date(Math.floor(m.info.timestampNanos / 1e6)),
});

/** Messages for the next fetch: about FETCH_BYTES at the last fetch's mean size, within [1, most]. */
export function nextFetchSize(messages: readonly { readonly data: Uint8Array }[], most: number): number {
  if (messages.length === 0) return Math.min(FIRST_FETCH, most);
  const bytes = messages.reduce((n, m) => n + m.data.length, 0);
  return Math.max(1, Math.min(most, Math.floor((FETCH_BYTES * messages.length) / Math.max(1, bytes))));
}

export function consumeRecords(
  source: ConsumerSource,
  handle: (batch: RecordDelivery[]) => Promise<void>,
  batchSize: number,
  inFlightLimit: number = IN_FLIGHT,
): RecordConsumer {
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const store = (messages: JsMsg[]) => {
    const task: Promise<void> = handle(messages.map(toDelivery))
      .then(
        () => {
          for (const m of messages) m.ack();
        },
        (err) => {
          source.log?.(`storing a batch failed, will retry: ${(err as Error).message}`);
          for (const m of messages) m.nak(1000);
        },
      )
      // A connection closed under us: the server redelivers what it did not see acknowledged.
      .catch((err) => source.log?.(`acknowledging a batch failed: ${(err as Error).message}`))
      .finally(() => inFlight.delete(task));
    inFlight.add(task);
  };
  const loop = (async () => {
    let size = Math.min(FIRST_FETCH, batchSize);
    while (!stopped) {
      try {
        const consumer = await source.consumer();
        while (!stopped) {
          while (inFlight.size >= inFlightLimit) await Promise.race(inFlight);
          const messages: JsMsg[] = [];
          try {
            for await (const m of await consumer.fetch({ max_messages: size, expires: 1000 })) messages.push(m);
          } catch (err) {
            // Give back what this fetch got, now rather than after the ack wait (if still connected).
            if (!source.isClosed()) for (const m of messages) m.nak();
            throw err;
          }
          if (messages.length === 0) continue;
          size = nextFetchSize(messages, batchSize);
          store(messages);
        }
      } catch (err) {
        if (stopped || source.isClosed()) break;
        source.log?.(`consumer interrupted, resuming: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    // Stopping: let the batches being stored finish and be acknowledged.
    await Promise.all(inFlight);
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}
