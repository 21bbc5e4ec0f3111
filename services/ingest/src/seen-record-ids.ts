/**
 * Record ids already submitted to POST /v1/sealed-records, so that a replayed submission is refused
 * while a client's retry of the same submission (same id, same body, same Idempotency-Key) gets the
 * same message republished — the same Nats-Msg-Id, which JetStream drops as a duplicate.
 *
 * An entry lives as long as its id is fresh enough to be accepted at all; older ids are refused by
 * the freshness check before they get here. Bounded: past `maxEntries` the oldest entries go, and a
 * replay of one of those still stores nothing new (the vault keeps the first record with an id).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

interface Entry {
  readonly fingerprint: Buffer;
  readonly at: number;
  readonly message: Uint8Array;
}

export class SeenRecordIds {
  readonly #entries = new Map<string, Entry>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;

  constructor(ttlMs: number, maxEntries = 100_000) {
    this.#ttlMs = ttlMs;
    this.#maxEntries = maxEntries;
  }

  /**
   * The message to publish for this id: `make()`'s on first sight, the first one again for a retry
   * with the same body and Idempotency-Key, or 'replay' for anything else.
   */
  claim(id: string, body: string, idempotencyKey: string | undefined, now: number, make: () => Uint8Array) {
    this.#expire(now);
    const fingerprint = createHash('sha256')
      .update(`${idempotencyKey ?? ''}\n`)
      .update(body)
      .digest();
    const entry = this.#entries.get(id);
    // Without an Idempotency-Key no retry is possible: a second sight of the id is a replay.
    const retry = entry && idempotencyKey !== undefined && timingSafeEqual(entry.fingerprint, fingerprint);
    if (entry) return retry ? entry.message : ('replay' as const);
    const message = make();
    this.#entries.set(id, { fingerprint, at: now, message });
    return message;
  }

  #expire(now: number): void {
    for (const [id, entry] of this.#entries) {
      if (now - entry.at <= this.#ttlMs && this.#entries.size < this.#maxEntries) break;
      this.#entries.delete(id);
    }
  }
}
