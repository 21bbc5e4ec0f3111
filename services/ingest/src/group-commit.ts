/**
 * Group commit: the records of concurrent requests go to the stream as one message (record batch,
 * message version 2), published once `maxRecords` are waiting or `maxDelayMs` after the first.
 * Each request is answered only after its batch's PubAck; a failed publish fails every request in
 * the batch (each answers 503, and nothing of it is half-accepted: the stream took the whole
 * message or none of it).
 */
import { randomUUID } from 'node:crypto';
import type { Bus } from '@coffer/bus';
import { encodeJson, MAX_RECORDS_PER_BATCH, type RecordBatchMessage } from '@coffer/protocol';
import type { ContextRef } from './record-sealer.ts';

/** RecordBatchMessage allows 64 contexts; more than one or two happen only with retried records. */
const MAX_CONTEXTS_PER_BATCH = 64;

export type BatchRecord = RecordBatchMessage['records'][number];

export interface QueuedRecord {
  readonly record: BatchRecord;
  readonly context: ContextRef;
}

interface Waiting extends QueuedRecord {
  resolve(): void;
  reject(err: unknown): void;
}

export interface GroupCommitOptions {
  /** Publish once this many records wait (default 256). */
  readonly maxRecords?: number;
  /** Publish at most this long after the first record of a batch arrived (default 2 ms). */
  readonly maxDelayMs?: number;
}

export class GroupCommit {
  readonly #bus: Bus;
  readonly #maxRecords: number;
  readonly #maxDelayMs: number;
  #waiting: Waiting[] = [];
  readonly #contexts = new Set<string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(bus: Bus, options: GroupCommitOptions = {}) {
    this.#bus = bus;
    this.#maxRecords = Math.min(options.maxRecords ?? 256, MAX_RECORDS_PER_BATCH);
    this.#maxDelayMs = options.maxDelayMs ?? 2;
  }

  /** Resolves once the stream has durably taken the batch holding `queued`; rejects as the publish did. */
  submit(queued: QueuedRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ ...queued, resolve, reject });
      this.#contexts.add(queued.context.id);
      if (this.#waiting.length >= this.#maxRecords || this.#contexts.size >= MAX_CONTEXTS_PER_BATCH) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#maxDelayMs);
    });
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#waiting;
    this.#waiting = [];
    this.#contexts.clear();
    if (batch.length === 0) return;
    const contexts = new Map<string, ContextRef>();
    for (const w of batch) contexts.set(w.context.id, w.context);
    // The same record twice in one batch (a client retrying before its first answer) is one row.
    const records = [...new Map(batch.map((w) => [w.record.id, w.record])).values()];
    const message: RecordBatchMessage = {
      v: 3,
      batchId: randomUUID(),
      contexts: [...contexts.values()].map((c) => ({ id: c.id, keyId: c.keyId, enc: c.enc })),
      records,
    };
    this.#bus.publishRecord(message.batchId, encodeJson(message)).then(
      () => {
        for (const w of batch) w.resolve();
      },
      (err: unknown) => {
        for (const w of batch) w.reject(err);
      },
    );
  }
}
