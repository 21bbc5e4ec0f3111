/** The Bus on NATS JetStream. */

import { type BusNames, DUPLICATE_WINDOW_MS } from '@coffer/protocol';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { type AuditPublisher, natsAuditPublisher } from './audit-publisher.ts';
import {
  type Bus,
  BusUnavailableError,
  type Plane,
  type RecordConsumer,
  type RecordDelivery,
  type RequestHandler,
  type SharedCell,
} from './bus.ts';
import { idempotencyNames, idempotencyStreamConfig } from './idempotency-stream.ts';
import { consumeRecords } from './record-consumer.ts';
import { natsSharedCell, revocationBucket } from './shared-cell.ts';

export interface NatsBusOptions {
  readonly url: string;
  readonly names: BusNames;
  /** Which service connects: sets the connection name and the inbox prefix the server allows it. */
  readonly service: 'ingest' | 'vault' | 'admin';
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /** Mutual TLS: the plane's client certificate (its NATS identity) and the CA of the bus. */
  readonly tls?: { readonly cert: string; readonly key: string; readonly ca: string } | undefined;
  /** JetStream replicas of the records stream, or of admin's revocation bucket (1 on one server, 3 in a cluster). */
  readonly replicas?: number;
  readonly log?: (event: string) => void;
}

const ns = (ms: number) => ms * 1_000_000;

/**
 * Where each plane's answers may go: its own inbox prefix (connectNatsBus sets `_INBOX_<service>`),
 * or for admin also the server's one-time `_R_.` reply subjects, which is how an answer travels
 * back when admin's requests cross from its own NATS account (deploy/nats/permissions.conf).
 * Ingest, whose account the vault shares, could name `_R_.` too, but only for `keys.current`,
 * which does not accept it.
 */
const REPLY_PREFIXES: Record<Plane, readonly string[]> = {
  ingest: ['_INBOX_ingest.'],
  admin: ['_INBOX_admin.', '_R_.'],
};
const replyAllowed = (reply: string, from: Plane): boolean => REPLY_PREFIXES[from].some((p) => reply.startsWith(p));

export async function connectNatsBus(options: NatsBusOptions): Promise<Bus> {
  const nc = await connect({
    servers: options.url,
    name: `coffer-${options.service}`,
    inboxPrefix: `_INBOX_${options.service}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: true,
    // Async stack traces cost two Error objects per publish: half the client's CPU per record.
    noAsyncTraces: true,
    ...(options.user ? { user: options.user, pass: options.password ?? '' } : {}),
    ...(options.tls ? { tls: { cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca } } : {}),
  });
  return new NatsBus(nc, options);
}

class NatsBus implements Bus {
  readonly names: BusNames;
  #connected = true;
  readonly #nc: NatsConnection;
  readonly #options: NatsBusOptions;
  readonly #js;
  #revocations: SharedCell | undefined;

  constructor(nc: NatsConnection, options: NatsBusOptions) {
    this.#nc = nc;
    this.#options = options;
    this.names = options.names;
    this.#js = jetstream(nc);
    void this.#watchStatus();
  }

  async #watchStatus(): Promise<void> {
    for await (const s of this.#nc.status()) {
      if (s.type === 'disconnect') {
        this.#connected = false;
        this.#options.log?.('bus disconnected');
      } else if (s.type === 'reconnect') {
        this.#connected = true;
        this.#options.log?.('bus reconnected');
      }
    }
  }

  isConnected(): boolean {
    return this.#connected && !this.#nc.isClosed();
  }

  #assertConnected(): void {
    // The client would buffer while disconnected and flush after a reconnect; a caller that has
    // already answered 503 must not have its record appear later, so refuse up front.
    if (!this.isConnected()) throw new BusUnavailableError('bus is not connected');
  }

  async publishRecord(msgId: string, data: Uint8Array): Promise<{ duplicate: boolean }> {
    this.#assertConnected();
    try {
      const ack = await this.#js.publish(this.names.records, data, { msgID: msgId, timeout: 5000 });
      return { duplicate: ack.duplicate };
    } catch (err) {
      throw new BusUnavailableError(`publish failed: ${(err as Error).message}`);
    }
  }

  async publishAlert(kind: string, data: Uint8Array): Promise<void> {
    this.#assertConnected();
    this.#nc.publish(`${this.names.alerts}.${kind}`, data);
    await this.#nc.flush();
  }

  async request(subject: string, data: Uint8Array, timeoutMs = 5000): Promise<Uint8Array> {
    this.#assertConnected();
    try {
      return (await this.#nc.request(subject, data, { timeout: timeoutMs })).data;
    } catch (err) {
      throw new BusUnavailableError(`request failed: ${(err as Error).message}`);
    }
  }

  serve(subject: string, handler: RequestHandler, from?: Plane): void {
    this.#nc.subscribe(subject, {
      queue: 'vault',
      callback: (err, msg) => {
        if (err) return;
        if (from && !replyAllowed(msg.reply ?? '', from)) {
          // Not answered at all: the requester named a reply subject outside the plane that may ask.
          this.#options.log?.(`refused a request on ${msg.subject}: its reply subject is not the ${from} inbox`);
          return;
        }
        handler(msg.data, msg.subject).then(
          (reply) => msg.respond(reply),
          () => msg.respond(new TextEncoder().encode('{"v":1,"error":"internal"}')),
        );
      },
    });
  }

  async serving(): Promise<void> {
    await this.#nc.flush();
  }

  async ensureRecordStream(): Promise<void> {
    const jsm = await jetstreamManager(this.#nc);
    const config = {
      name: this.names.stream,
      subjects: [this.names.records],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: ns(DUPLICATE_WINDOW_MS),
      num_replicas: this.#options.replicas ?? 1,
    };
    try {
      await jsm.streams.info(this.names.stream);
      await jsm.streams.update(this.names.stream, config);
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw err;
      await jsm.streams.add(config);
    }
    // Beside it, the stream ingest replicas share Idempotency-Keys through.
    const idempotency = idempotencyStreamConfig(idempotencyNames(this.names), this.#options.replicas ?? 1);
    try {
      await jsm.streams.info(idempotency.name);
      await jsm.streams.update(idempotency.name, idempotency);
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw err;
      await jsm.streams.add(idempotency);
    }
    await jsm.consumers.add(this.names.stream, {
      durable_name: this.names.consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: ns(30_000),
      max_ack_pending: 20_000,
    });
  }

  consumeRecords(
    handle: (batch: RecordDelivery[]) => Promise<void>,
    batchSize: number,
    inFlight?: number,
  ): RecordConsumer {
    const source = {
      consumer: () => this.#js.consumers.get(this.names.stream, this.names.consumer),
      isClosed: () => this.#nc.isClosed(),
      log: this.#options.log,
    };
    return consumeRecords(source, handle, batchSize, inFlight);
  }

  auditPublisher(): AuditPublisher {
    return natsAuditPublisher(this.#js, () => jetstreamManager(this.#nc), this.names, this.#options.replicas ?? 1);
  }

  sharedRevocations(): SharedCell {
    this.#revocations ??= natsSharedCell(this.#nc, revocationBucket(this.names), this.#options.replicas ?? 1);
    return this.#revocations;
  }

  async closed(): Promise<void> {
    await this.#nc.closed();
  }

  async close(): Promise<void> {
    if (this.#nc.isClosed()) return;
    await this.#nc.drain().catch(() => this.#nc.close());
  }
}
