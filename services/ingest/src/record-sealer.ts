/**
 * Seals records under record contexts (sealed blob v2): one HPKE key agreement per context
 * instead of one per record. A context is rolled at every data key change, after `maxRecords`
 * records, and once it is `maxAgeMs` old — also when idle, by a timer, so that the context key
 * (which opens every record sealed under it) never outlives that bound in this process.
 */
import { RecordSealingContext } from '@coffer/crypto';
import type { RecordType } from '@coffer/protocol';
import type { VerifiedKey } from './data-key.ts';

export interface ContextRef {
  readonly id: string;
  readonly keyId: string;
  /** Base64 of the context's encapsulated key (public). */
  readonly enc: string;
}

export interface SealedRecord {
  readonly context: ContextRef;
  readonly sealed: Buffer;
}

export interface RecordSealerOptions {
  /** Records per context before a new one (default 4096). */
  readonly maxRecords?: number;
  /** A context's longest life, in milliseconds (default 1000). */
  readonly maxAgeMs?: number;
}

export class RecordSealer {
  readonly #maxRecords: number;
  readonly #maxAgeMs: number;
  #current: { context: RecordSealingContext; ref: ContextRef; openedAt: number; key: VerifiedKey } | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(options: RecordSealerOptions = {}) {
    this.#maxRecords = options.maxRecords ?? 4096;
    this.#maxAgeMs = options.maxAgeMs ?? 1000;
    this.#timer = setInterval(() => this.#expire(), Math.max(10, Math.floor(this.#maxAgeMs / 2)));
    this.#timer.unref();
  }

  /** Seal one normalised value, bound to (record id, type, data key id). */
  seal(key: VerifiedKey, recordId: string, type: RecordType, plaintext: Uint8Array): SealedRecord {
    const current = this.#contextFor(key);
    return { context: current.ref, sealed: current.context.seal(recordId, type, plaintext) };
  }

  #contextFor(key: VerifiedKey) {
    const now = Date.now();
    const c = this.#current;
    if (c && c.key === key && !c.context.exhausted && now - c.openedAt < this.#maxAgeMs) return c;
    c?.context.destroy();
    const context = RecordSealingContext.create(key.key, key.id, this.#maxRecords);
    this.#current = {
      context,
      key,
      openedAt: now,
      ref: { id: context.contextId, keyId: key.id, enc: context.enc.toString('base64') },
    };
    return this.#current;
  }

  #expire(): void {
    const c = this.#current;
    if (c && Date.now() - c.openedAt >= this.#maxAgeMs) {
      c.context.destroy();
      this.#current = undefined;
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#current?.context.destroy();
    this.#current = undefined;
  }
}
