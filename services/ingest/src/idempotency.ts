/**
 * Idempotency-Key: within the window, the same key with the same body reuses the first prepared
 * submission — same record id, same sealed message. A retry after an ambiguous failure (a PubAck
 * that timed out after the stream had stored the record) therefore republishes the same
 * Nats-Msg-Id, and JetStream drops it as a duplicate: one record, whatever happened. The same key
 * with another body is a conflict.
 *
 * Kept in this process's memory (bounded, expiring with the stream's duplicate window), per client
 * address: behind a load balancer, route a client's retries to the same ingest replica. Bodies are
 * compared by SHA-256 held only in memory, never logged or stored.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

interface Entry<T> {
  readonly bodyHash: Buffer;
  readonly at: number;
  readonly prepared: T;
}

export class IdempotencyCache<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #windowMs: number;
  readonly #maxEntries: number;

  // At most ~6 KB an entry (a 4 KiB secret, sealed and base64'd): 20,000 entries stay near 120 MB.
  constructor(windowMs: number, maxEntries = 20_000) {
    this.#windowMs = windowMs;
    this.#maxEntries = maxEntries;
  }

  /** The submission prepared for this key and body (made now if new), or 'conflict'. */
  prepare(key: string, body: string, now: number, make: () => T): T | 'conflict' {
    this.#expire(now);
    const bodyHash = createHash('sha256').update(body).digest();
    const entry = this.#entries.get(key);
    if (entry) return timingSafeEqual(entry.bodyHash, bodyHash) ? entry.prepared : 'conflict';
    const prepared = make();
    this.#entries.set(key, { bodyHash, at: now, prepared });
    return prepared;
  }

  #expire(now: number): void {
    // Map iteration is insertion order, so the oldest entries come first.
    for (const [key, entry] of this.#entries) {
      if (now - entry.at <= this.#windowMs && this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(key);
    }
  }
}
