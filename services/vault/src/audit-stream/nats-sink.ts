/** The audit stream on NATS JetStream, as a sink of the streamer (see @coffer/bus audit-publisher). */
import type { AuditPublisher } from '@coffer/bus';
import type { StreamedEvent } from './event.ts';
import type { AuditSink } from './streamer.ts';

export class NatsAuditSink implements AuditSink {
  readonly name = 'nats';
  readonly #publisher: AuditPublisher;
  #ready = false;

  constructor(publisher: AuditPublisher) {
    this.#publisher = publisher;
  }

  async #ensure(): Promise<void> {
    if (this.#ready) return;
    await this.#publisher.ensure();
    this.#ready = true;
  }

  /** The stream itself says how far it got: a publish the database position missed is not repeated. */
  async delivered(): Promise<number> {
    await this.#ensure();
    return this.#publisher.lastSeq();
  }

  async send(events: readonly StreamedEvent[]): Promise<void> {
    await this.#ensure();
    // In order, each acknowledged by the stream before the next: the stream's order is the chain's.
    for (const e of events) await this.#publisher.publish(e.seq, new TextEncoder().encode(JSON.stringify(e)));
  }

  async close(): Promise<void> {}
}
