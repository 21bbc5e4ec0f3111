/**
 * The audit stream on JetStream (issue 16 item 5): the vault publishes each audit event as one
 * JSON line on `audit.events`, with Nats-Msg-Id `audit-<seq>` (JetStream drops a repeat within the
 * duplicate window) and a `Coffer-Audit-Seq` header. The stream's last message says how far it got,
 * so a vault that died between publishing and recording its position resumes after it. A SIEM reads
 * through the durable `siem` consumer, which the vault creates; the `siem` bus user may only fetch
 * from and acknowledge on that consumer (deploy/nats/permissions.conf).
 */
import { type BusNames, DUPLICATE_WINDOW_MS } from '@coffer/protocol';
import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';

export const AUDIT_SEQ_HEADER = 'Coffer-Audit-Seq';

export interface AuditPublisher {
  /** Create or update the stream and the `siem` consumer. */
  ensure(): Promise<void>;
  /** The audit sequence number of the stream's last message (0 when it holds none). */
  lastSeq(): Promise<number>;
  /** Publish one event; resolves once the stream has stored it (or had it already). */
  publish(seq: number, line: Uint8Array): Promise<void>;
}

const ns = (ms: number) => ms * 1_000_000;

export function natsAuditPublisher(
  js: JetStreamClient,
  manager: () => Promise<JetStreamManager>,
  names: BusNames,
  replicas: number,
): AuditPublisher {
  return {
    async ensure() {
      const jsm = await manager();
      const config = {
        name: names.auditStream,
        subjects: [names.auditEvents],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        duplicate_window: ns(DUPLICATE_WINDOW_MS),
        num_replicas: replicas,
      };
      try {
        await jsm.streams.info(names.auditStream);
        await jsm.streams.update(names.auditStream, config);
      } catch (err) {
        if (!/not found/i.test((err as Error).message)) throw err;
        await jsm.streams.add(config);
      }
      await jsm.consumers.add(names.auditStream, {
        durable_name: names.auditConsumer,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: ns(30_000),
      });
    },

    async lastSeq() {
      const jsm = await manager();
      const last = await jsm.streams
        .getMessage(names.auditStream, { last_by_subj: names.auditEvents })
        .catch((err: Error) => {
          if (/no message found|not found/i.test(err.message)) return null;
          throw err;
        });
      const seq = Number(last?.header.get(AUDIT_SEQ_HEADER) ?? 0);
      return Number.isSafeInteger(seq) && seq > 0 ? seq : 0;
    },

    async publish(seq, line) {
      const h = headers();
      h.set(AUDIT_SEQ_HEADER, String(seq));
      await js.publish(names.auditEvents, line, { msgID: `audit-${seq}`, headers: h, timeout: 5000 });
    },
  };
}
