import type { Bus } from '@coffer/bus';
import type { DataKeySource } from '../data-key.ts';
import type { GroupCommit } from '../group-commit.ts';
import type { IdempotencyCache } from '../idempotency.ts';
import type { RecordSealer } from '../record-sealer.ts';
import type { PreparedRecord } from './submit-record.ts';

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
