/**
 * Idempotency-Key: the same key with the same body within the window gets the first answer again
 * and makes no second record. Kept in this process's memory (bounded, expiring): behind a load
 * balancer, route a client's retries to the same ingest replica. Bodies are compared by SHA-256
 * held only in memory, never logged or stored.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

interface Entry {
  readonly bodyHash: Buffer;
  readonly at: number;
  readonly result: Promise<unknown>;
}

export class IdempotencyCache {
  readonly #entries = new Map<string, Entry>();
  readonly #windowMs: number;
  readonly #maxEntries: number;

  constructor(windowMs: number, maxEntries = 100_000) {
    this.#windowMs = windowMs;
    this.#maxEntries = maxEntries;
  }

  /**
   * Run `work` once per key and body. A repeat returns the first result (even while it is still
   * running); the same key with another body returns 'conflict'. Failed work is forgotten so that
   * the client can retry.
   */
  run<T>(key: string, body: string, now: number, work: () => Promise<T>): Promise<T> | 'conflict' {
    this.#expire(now);
    const bodyHash = createHash('sha256').update(body).digest();
    const entry = this.#entries.get(key);
    if (entry) return timingSafeEqual(entry.bodyHash, bodyHash) ? (entry.result as Promise<T>) : 'conflict';
    const result = work();
    this.#entries.set(key, { bodyHash, at: now, result });
    result.catch(() => this.#entries.delete(key));
    return result;
  }

  #expire(now: number): void {
    for (const [key, entry] of this.#entries) {
      if (now - entry.at <= this.#windowMs && this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(key);
    }
  }
}
