/**
 * Streams the audit log to SIEM sinks as it is written (issue 16 item 5). Every interval (and
 * straight on while a sink is behind) each sink gets the events after its position, in order,
 * in batches; the position is then recorded in `audit_stream_positions`, in the transaction that
 * locks the sink's row. One vault replica holds a sink's lease and streams it over its one
 * connection, so a receiver sees events in order; another takes over when the holder stops (it
 * releases) or dies (the lease lapses). A restart resumes after the last batch the sink took; a
 * batch the sink refused is sent again next time. A sink that can tell how far it got (the NATS
 * stream's last message) overrides a stale position, so a vault that died between sending and
 * recording does not repeat itself there.
 */
import { randomUUID } from 'node:crypto';
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
  /** After a sink took events up to `seq`, or refused a batch (`seq` undefined). */
  readonly observe?: (sink: string, seq: number | undefined) => void;
}

/** How long a replica keeps a sink without renewing it (it renews every interval). */
const LEASE_MS = 15_000;

export class AuditStreamer {
  readonly #sql: postgres.Sql;
  readonly #sinks: readonly AuditSink[];
  readonly #options: StreamerOptions;
  readonly #id = randomUUID();
  readonly #reached = new Map<string, number>();
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

  /** Finish the batch in flight, close the sinks, and hand them over: nothing taken is unrecorded. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    for (const sink of this.#sinks) await sink.close().catch(() => {});
    await this.#sql`UPDATE audit_stream_positions SET holder = NULL, lease_until = NULL
      WHERE holder = ${this.#id}`.catch(() => {});
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let behind = false;
      for (const sink of this.#sinks) {
        if (!this.#running) break;
        try {
          behind = (await this.streamOnce(sink)) || behind;
        } catch (err) {
          this.#options.observe?.(sink.name, undefined);
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

  /** One batch to one sink; true when more may be waiting. */
  async streamOnce(sink: AuditSink): Promise<boolean> {
    const batch = this.#options.batch ?? 500;
    const now = (this.#options.now ?? (() => new Date()))();
    const more = await this.#sql.begin(async (tx) => {
      // SKIP LOCKED: a replica in the middle of a batch on this sink is left to it.
      const [row] = await tx<{ seq: string; holder: string | null; lease_until: Date | null }[]>`
        SELECT seq, holder, lease_until FROM audit_stream_positions WHERE sink = ${sink.name}
        FOR UPDATE SKIP LOCKED`;
      if (!row) {
        const made = await tx`INSERT INTO audit_stream_positions (sink, seq, updated_at)
          VALUES (${sink.name}, 0, ${now}) ON CONFLICT (sink) DO NOTHING RETURNING sink`;
        return made.length > 0; // a new sink starts at once; a locked one waits for the next interval
      }
      if (row.holder && row.holder !== this.#id && row.lease_until && row.lease_until > now) return false;
      const position = Math.max(Number(row.seq), (await sink.delivered?.()) ?? 0);
      const events = await eventsAfter(tx, position, batch);
      if (events.length > 0) await sink.send(events);
      const reached = events.at(-1)?.seq ?? position;
      this.#reached.set(sink.name, reached);
      await tx`UPDATE audit_stream_positions SET seq = ${reached}, updated_at = ${now}, holder = ${this.#id},
        lease_until = ${new Date(now.getTime() + LEASE_MS)} WHERE sink = ${sink.name}`;
      return events.length === batch;
    });
    const reached = this.#reached.get(sink.name);
    if (reached !== undefined) this.#options.observe?.(sink.name, reached);
    return more;
  }
}
