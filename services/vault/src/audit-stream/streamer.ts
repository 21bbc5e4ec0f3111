/**
 * Streams the audit log to SIEM sinks as it is written (issue 16 item 5). Every interval (and
 * straight on while a sink is behind) each sink gets the events after its position, in order,
 * in batches; the position is then recorded in `audit_stream_positions` in the same transaction
 * that holds the sink's streaming lock. So: one vault replica streams a sink at a time; a restart
 * resumes after the last batch the sink took; a batch the sink refused is sent again next time.
 * A sink that can tell how far it got (the NATS stream's last message) overrides a stale position,
 * so a vault that died between sending and recording does not repeat itself there.
 */
import type postgres from 'postgres';
import { eventsAfter, type StreamedEvent } from './event.ts';

export interface AuditSink {
  /** Its row in audit_stream_positions. */
  readonly name: string;
  /** The last seq the sink itself holds, when it can say. */
  delivered?(): Promise<number>;
  /** Resolves once the sink has taken every event, in order; throws to have them sent again. */
  send(events: readonly StreamedEvent[]): Promise<void>;
  close(): Promise<void>;
}

export interface StreamerOptions {
  readonly intervalMs?: number;
  readonly batch?: number;
  readonly now?: () => Date;
  readonly log?: (msg: string, fields: Record<string, unknown>) => void;
}

// pg_try_advisory_xact_lock(class, sink index): names the streaming locks in pg_locks.
const STREAM_LOCK_CLASS = 0x636f6673;

export class AuditStreamer {
  readonly #sql: postgres.Sql;
  readonly #sinks: readonly AuditSink[];
  readonly #options: StreamerOptions;
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(sql: postgres.Sql, sinks: readonly AuditSink[], options: StreamerOptions = {}) {
    this.#sql = sql;
    this.#sinks = sinks;
    this.#options = options;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Finish the batch in flight, then close the sinks: nothing taken is left unrecorded. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    for (const sink of this.#sinks) await sink.close().catch(() => {});
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let behind = false;
      for (const [index, sink] of this.#sinks.entries()) {
        if (!this.#running) break;
        try {
          behind = (await this.streamOnce(sink, index)) || behind;
        } catch (err) {
          this.#options.log?.('alert: audit-stream: a sink did not take its events; they will be sent again', {
            sink: sink.name,
            err: (err as Error).message,
          });
        }
      }
      if (!behind && this.#running) await this.#sleep(this.#options.intervalMs ?? 1000);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** One batch to one sink; true when a full batch went (more may be waiting). */
  async streamOnce(sink: AuditSink, index: number): Promise<boolean> {
    const batch = this.#options.batch ?? 500;
    const now = this.#options.now ?? (() => new Date());
    return this.#sql.begin(async (tx) => {
      const [lock] = await tx<{ locked: boolean }[]>`
        SELECT pg_try_advisory_xact_lock(${STREAM_LOCK_CLASS}, ${index}) AS locked`;
      if (!lock?.locked) return false; // another replica is streaming this sink
      const [row] = await tx<{ seq: string }[]>`SELECT seq FROM audit_stream_positions WHERE sink = ${sink.name}`;
      const recorded = Number(row?.seq ?? 0);
      const position = Math.max(recorded, (await sink.delivered?.()) ?? 0);
      const events = await eventsAfter(tx, position, batch);
      if (events.length > 0) await sink.send(events);
      const reached = events.at(-1)?.seq ?? position;
      if (reached !== recorded || !row) {
        await tx`INSERT INTO audit_stream_positions (sink, seq, updated_at) VALUES (${sink.name}, ${reached}, ${now()})
          ON CONFLICT (sink) DO UPDATE SET seq = EXCLUDED.seq, updated_at = EXCLUDED.updated_at`;
      }
      return events.length === batch;
    });
  }
}
