/**
 * The bus as the services see it. Two implementations: NATS JetStream (deployed, and `pnpm dev`
 * when a nats-server is at hand) and an in-process bus (dev mode on a machine without one).
 */
import type { BusNames } from '@coffer/protocol';
import type { AuditPublisher } from './audit-publisher.ts';

export class BusUnavailableError extends Error {
  override readonly name = 'BusUnavailableError';
}

export interface RecordDelivery {
  readonly data: Uint8Array;
  /** The publisher's Nats-Msg-Id (the record id). */
  readonly msgId: string | undefined;
  /** When the stream took the message, by the bus's clock (set by the server, not the publisher). */
  readonly streamedAt?: Date | undefined;
}

/** A plane that sends requests over the bus. */
export type Plane = 'ingest' | 'admin';

export type RequestHandler = (data: Uint8Array, subject: string) => Promise<Uint8Array>;

export interface RecordConsumer {
  stop(): Promise<void>;
}

/** One value the admin replicas share outside the database (shared-cell.ts). */
export interface SharedCellEntry {
  readonly value: Uint8Array;
  /** The bucket's revision of this value; what a compare-and-set names. */
  readonly revision: number;
}

export interface SharedCell {
  /** The stored value, or null when there is none (never written, deleted or purged). */
  get(): Promise<SharedCellEntry | null>;
  /**
   * Store `value` only if the stored entry still has `revision` (the one `get` returned; 0 when it
   * returned null). False when another writer came first: re-read and decide again.
   */
  put(value: Uint8Array, revision: number): Promise<boolean>;
}

export interface Bus {
  readonly names: BusNames;
  /** Connected to the server right now (always true in process). */
  isConnected(): boolean;
  /**
   * Publish a record with Nats-Msg-Id = `msgId`; resolves only once the stream has durably taken
   * it. Throws BusUnavailableError when disconnected instead of buffering.
   */
  publishRecord(msgId: string, data: Uint8Array): Promise<{ duplicate: boolean }>;
  request(subject: string, data: Uint8Array, timeoutMs?: number): Promise<Uint8Array>;
  /**
   * Vault only: publish a security alert on `<names.alerts>.<kind>` (issue 16, item 3), fire and
   * forget — an alerting consumer subscribes; nobody answers. Throws BusUnavailableError when down.
   */
  publishAlert(kind: string, data: Uint8Array): Promise<void>;
  /**
   * Answer requests on `subject` (wildcards allowed); one replica answers each request. With
   * `from`, only requests whose reply subject is that plane's inbox are answered: a requester
   * names any reply subject it likes, and an answer must not be publishable into another plane.
   */
  serve(subject: string, handler: RequestHandler, from?: Plane): void;
  /**
   * Resolves once the server holds every subscription `serve` made so far: a subscription is sent
   * asynchronously, and a requester on another connection must not meet "no responders" first.
   */
  serving(): Promise<void>;
  /** Vault only: create or update the records stream and the durable consumer. */
  ensureRecordStream(): Promise<void>;
  /**
   * Vault only: deliver records in batches of at most `batchSize` messages; each batch is
   * acknowledged after `handle` resolves for it and redelivered later when it throws. On NATS a
   * few batches are handled at once (record-consumer.ts), so `handle` must not assume order
   * between batches, and a record may come again in a later batch: storing it must be a no-op.
   * `inFlight`: batches handled at once on NATS (default IN_FLIGHT of record-consumer.ts).
   */
  consumeRecords(
    handle: (batch: RecordDelivery[]) => Promise<void>,
    batchSize: number,
    inFlight?: number,
  ): RecordConsumer;
  /** Vault only, on NATS: the audit stream a SIEM reads (undefined on a bus without JetStream). */
  auditPublisher?(): AuditPublisher;
  /**
   * Admin only, on NATS: the newest signed revocation list the admin replicas share, in a bucket of
   * the ADMIN account that no other bus user can write (undefined on a bus without JetStream).
   */
  sharedRevocations?(): SharedCell;
  /** Resolves when the connection is gone for good (closed, or refused on reconnect). */
  closed(): Promise<void>;
  close(): Promise<void>;
}
