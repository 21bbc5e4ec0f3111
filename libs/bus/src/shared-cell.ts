/**
 * One value the admin replicas share outside the database (issue 15 item 2: the newest signed
 * revocation list), in a JetStream key-value bucket of the ADMIN account. Only the admin bus user
 * may create, read or write it (deploy/nats/permissions.conf); ingest and vault live in another
 * account and cannot name it. Writes are compare-and-set on the entry's revision, so two replicas
 * racing cannot overwrite each other's newer value unseen: the loser re-reads and decides again.
 */
import type { BusNames } from '@coffer/protocol';
import { JetStreamApiCodes, JetStreamApiError, jetstream } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { BusUnavailableError, type SharedCell } from './bus.ts';

/** The bucket, named after the records stream so that a bus namespace (tests) covers it too. */
export function revocationBucket(names: BusNames): string {
  return names.stream.replace(/^INGEST/, 'REVOCATIONS');
}

const KEY = 'list';
const WRONG_LAST = new Set<number>([
  JetStreamApiCodes.StreamWrongLastSequence,
  JetStreamApiCodes.StreamWrongLastSequenceUnknown,
]);

export function natsSharedCell(nc: NatsConnection, bucket: string, replicas: number): SharedCell {
  // No account-info probe ($JS.API.INFO): the admin user is allowed this bucket's API and no more.
  let opened: Promise<KV> | undefined;
  const kv = (): Promise<KV> => {
    opened ??= new Kvm(jetstream(nc, { checkAPI: false }))
      .create(bucket, { history: 1, replicas, maxValueSize: 512 * 1024 })
      .catch((err: unknown) => {
        opened = undefined;
        throw err;
      });
    return opened;
  };
  // A bucket someone deleted under us is made again once (then it is empty: the caller's floor).
  const withKv = async <T>(use: (bucketKv: KV) => Promise<T>): Promise<T> => {
    try {
      return await use(await kv());
    } catch (first) {
      if (first instanceof JetStreamApiError && WRONG_LAST.has(first.code)) throw first;
      opened = undefined;
      try {
        return await use(await kv());
      } catch (err) {
        if (err instanceof JetStreamApiError && WRONG_LAST.has(err.code)) throw err;
        throw new BusUnavailableError(`the shared revocation bucket: ${(err as Error).message}`);
      }
    }
  };
  return {
    async get() {
      const e = await withKv((bucketKv) => bucketKv.get(KEY));
      if (e?.operation !== 'PUT') return null;
      return { value: e.value, revision: e.revision };
    },
    async put(value, revision) {
      try {
        await withKv((bucketKv) =>
          revision === 0 ? bucketKv.create(KEY, value) : bucketKv.update(KEY, value, revision),
        );
        return true;
      } catch (err) {
        if (err instanceof JetStreamApiError && WRONG_LAST.has(err.code)) return false;
        throw err;
      }
    },
  };
}
