/**
 * A sealed record ready to publish: reused as-is when a client retries with its Idempotency-Key.
 * A module of its own, so that the route, its deps and the shared idempotency claim all use it
 * without importing each other.
 */
import type { QueuedRecord } from './group-commit.ts';

export interface PreparedRecord {
  readonly id: string;
  /** The sealed record and its context, as the group commit publishes it. */
  readonly queued: QueuedRecord;
  readonly answer: { id: string; type: string; hint: string | null; keyId: string };
  /** About how many bytes this holds (the sealed value and its fields), for the cache's bound. */
  readonly byteLength: number;
}
