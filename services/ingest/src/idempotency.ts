/**
 * Idempotency-Key: within the window, the same key with the same body reuses the first prepared
 * submission — same record id, same sealed record. A retry after an ambiguous failure (a PubAck
 * that timed out after the stream had stored the record) therefore republishes the same record
 * id, and the vault keeps the first row with an id: one record, whatever happened. The same key
 * with another body is a conflict.
 *
 * Kept in this process's memory, per client address: behind a load balancer, route a client's
 * retries to the same ingest replica. Bodies are compared by an HMAC-SHA256 under a key drawn at
 * start and never written anywhere: an unkeyed hash of a nine-digit SSN falls to a brute force in a
 * fraction of a second, this one does not without the process's memory. Entries expire on a timer
 * (not only when the next request comes) and the cache is bounded in bytes as well as entries; an
 * entry pushed out early only loses its deduplication (a retry then makes a second record).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface IdempotencyBounds {
  /** Most entries held. */
  readonly maxEntries?: number;
  /** Most bytes held, counting each entry's key, fingerprint and prepared message. */
  readonly maxBytes?: number;
}

interface Entry<T> {
  readonly fingerprint: Buffer;
  readonly at: number;
  readonly bytes: number;
  readonly prepared: T;
}

/** Map and object bookkeeping per entry, beyond the bytes counted directly. */
const ENTRY_OVERHEAD = 160;

/** What the cache keeps per key: anything that says how many bytes it holds. */
export interface Sized {
  readonly byteLength: number;
}

export class IdempotencyCache<T extends Sized> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #macKey = randomBytes(32);
  readonly #timer: NodeJS.Timeout;
  #bytes = 0;

  // A 4 KiB secret seals to ~6 KB of base64 JSON: 32 MiB holds ~5,000 of the largest, and far more
  // of the usual card numbers, which is plenty for retries within a two-minute window.
  constructor(windowMs: number, bounds: IdempotencyBounds = {}) {
    this.#windowMs = windowMs;
    this.#maxEntries = bounds.maxEntries ?? 20_000;
    this.#maxBytes = bounds.maxBytes ?? 32 * 1024 * 1024;
    this.#timer = setInterval(() => this.#expire(Date.now()), Math.max(1_000, Math.floor(windowMs / 8)));
    this.#timer.unref();
  }

  /** Entries and bytes held now. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes };
  }

  /** The keyed fingerprint of a body: equal bodies, equal fingerprints, in this process only. */
  fingerprint(body: Uint8Array): Buffer {
    return createHmac('sha256', this.#macKey).update(body).digest();
  }

  /**
   * The submission prepared for this key and body (made now if new), or 'conflict'. `body` is the
   * caller's buffer: it is read, not kept, so the caller can wipe it afterwards.
   */
  prepare(key: string, body: Uint8Array, now: number, make: () => T): T | 'conflict' {
    this.#expire(now);
    const fingerprint = this.fingerprint(body);
    const entry = this.#entries.get(key);
    if (entry) {
      const same = timingSafeEqual(entry.fingerprint, fingerprint);
      fingerprint.fill(0);
      return same ? entry.prepared : 'conflict';
    }
    const prepared = make();
    const bytes = ENTRY_OVERHEAD + key.length * 2 + fingerprint.length + prepared.byteLength;
    this.#entries.set(key, { fingerprint, at: now, bytes, prepared });
    this.#bytes += bytes;
    this.#expire(now);
    return prepared;
  }

  /** Forget everything and stop the timer (on close). */
  clear(): void {
    clearInterval(this.#timer);
    for (const key of [...this.#entries.keys()]) this.#delete(key);
  }

  #expire(now: number): void {
    // Map iteration is insertion order, so the oldest entries come first.
    for (const [key, entry] of this.#entries) {
      const over = this.#entries.size > this.#maxEntries || this.#bytes > this.#maxBytes;
      if (now - entry.at <= this.#windowMs && !over) break;
      this.#delete(key);
    }
  }

  #delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
    // The prepared record is ciphertext and may still be in a publish; the fingerprint is ours.
    entry.fingerprint.fill(0);
  }
}
