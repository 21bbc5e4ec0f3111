import type { Bus } from '@coffer/bus';
import type { DataKeySource } from '../data-key.ts';
import type { GroupCommit, QueuedRecord } from '../group-commit.ts';
import type { IdempotencyCache } from '../idempotency.ts';
import type { RecordSealer } from '../record-sealer.ts';

/**
 * A sealed record ready to publish: reused as-is when a client retries with its Idempotency-Key.
 * Declared here, beside the cache that holds it, so that deps.ts and the route do not import each other.
 */
export interface PreparedRecord {
  readonly id: string;
  readonly queued: QueuedRecord;
  readonly answer: { id: string; type: string; hint: string | null; keyId: string };
}

/** What the ingest routes need, passed as plugin options rather than globals. */
export interface IngestDeps {
  readonly bus: Bus;
  readonly keys: DataKeySource;
  readonly sealer: RecordSealer;
  readonly commit: GroupCommit;
  readonly idempotency: IdempotencyCache<PreparedRecord>;
  readonly now: () => Date;
  readonly rateLimit: { max: number; timeWindow: number };
}
