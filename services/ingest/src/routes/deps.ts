import type { Bus } from '@coffer/bus';
import type { DataKeySource } from '../data-key.ts';
import type { IdempotencyCache } from '../idempotency.ts';
import type { PreparedRecord } from '../prepared-record.ts';
import type { SharedIdempotency } from '../shared-idempotency.ts';

export type { PreparedRecord } from '../prepared-record.ts';

/** What the ingest routes need, passed as plugin options rather than globals. */
export interface IngestDeps {
  readonly bus: Bus;
  readonly keys: DataKeySource;
  readonly idempotency: IdempotencyCache<PreparedRecord>;
  /** Idempotency-Key across replicas (shared-idempotency.ts); absent: this process only. */
  readonly sharedIdempotency?: SharedIdempotency | undefined;
  readonly now: () => Date;
  readonly rateLimit: { max: number; timeWindow: number };
}
