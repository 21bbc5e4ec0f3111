/**
 * The Bus inside one process, for `pnpm dev` on a machine with no nats-server. A published record
 * is acknowledged only once the consumer has stored it, so even here `202` means committed.
 * Not durable across restarts and not split-plane: dev mode only.
 */
import { type BusNames, busNames, DUPLICATE_WINDOW_MS } from '@coffer/protocol';
import { type Bus, BusUnavailableError, type RecordConsumer, type RecordDelivery, type RequestHandler } from './bus.ts';

interface Pending extends RecordDelivery {
  readonly done: (result: { duplicate: boolean }) => void;
}

export class InProcessBus implements Bus {
  readonly names: BusNames = busNames();
  readonly #handlers = new Map<string, RequestHandler>();
  readonly #queue: Pending[] = [];
  readonly #seen = new Map<string, number>();
  #wake: (() => void) | undefined;
  #closed = false;

  isConnected(): boolean {
    return !this.#closed;
  }

  publishRecord(msgId: string, data: Uint8Array): Promise<{ duplicate: boolean }> {
    if (this.#closed) return Promise.reject(new BusUnavailableError('bus is closed'));
    const now = Date.now();
    for (const [id, at] of this.#seen) if (now - at > DUPLICATE_WINDOW_MS) this.#seen.delete(id);
    if (this.#seen.has(msgId)) return Promise.resolve({ duplicate: true });
    this.#seen.set(msgId, now);
    return new Promise((done) => {
      this.#queue.push({ data, msgId, streamedAt: new Date(now), done });
      this.#wake?.();
    });
  }

  /** Alerts seen in process (dev mode has no alerting consumer): kept for whoever looks. */
  readonly alerts: { kind: string; data: Uint8Array }[] = [];

  async publishAlert(kind: string, data: Uint8Array): Promise<void> {
    if (this.#closed) throw new BusUnavailableError('bus is closed');
    this.alerts.push({ kind, data });
    if (this.alerts.length > 1000) this.alerts.shift(); // dev mode: the latest only
  }

  async request(subject: string, data: Uint8Array, timeoutMs = 5000): Promise<Uint8Array> {
    const handler = [...this.#handlers].find(([pattern]) => matches(pattern, subject))?.[1];
    if (!handler || this.#closed) throw new BusUnavailableError(`no responder for ${subject}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new BusUnavailableError('request timed out')), timeoutMs);
    });
    try {
      return await Promise.race([handler(data, subject), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  serve(subject: string, handler: RequestHandler): void {
    this.#handlers.set(subject, handler);
  }

  async serving(): Promise<void> {}

  async ensureRecordStream(): Promise<void> {}

  consumeRecords(handle: (batch: RecordDelivery[]) => Promise<void>, batchSize: number): RecordConsumer {
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        if (this.#queue.length === 0) {
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
          });
          continue;
        }
        const batch = this.#queue.slice(0, batchSize);
        try {
          await handle(batch);
          this.#queue.splice(0, batch.length);
          for (const p of batch) p.done({ duplicate: false });
        } catch {
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        this.#wake?.();
        await loop;
      },
    };
  }

  #onClosed: (() => void) | undefined;
  readonly #closedPromise = new Promise<void>((resolve) => {
    this.#onClosed = resolve;
  });

  closed(): Promise<void> {
    return this.#closedPromise;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#onClosed?.();
  }
}

/** NATS subject matching: `*` is one token, a trailing `>` one or more. */
function matches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}
