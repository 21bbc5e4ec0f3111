/**
 * The stream ingest replicas share Idempotency-Keys through (services/ingest/src/
 * shared-idempotency.ts). The vault creates it beside the records stream, since it owns streams:
 * one message per subject, a second one refused by the server, entries kept for the records
 * stream's duplicate window.
 */
import { type BusNames, DUPLICATE_WINDOW_MS } from '@coffer/protocol';
import { DiscardPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';

export interface IdempotencyNames {
  readonly stream: string;
  /** Subject prefix; an entry is `<prefix>.<keyed mac>`. */
  readonly subjectPrefix: string;
}

/** Named after the records stream and subject, so a bus namespace covers both. */
export function idempotencyNames(names: BusNames): IdempotencyNames {
  return {
    stream: names.stream.replace(/^INGEST/, 'IDEMPOTENCY'),
    subjectPrefix: names.records.replace(/records$/, 'idempotency'),
  };
}

export function idempotencyStreamConfig(
  names: IdempotencyNames,
  replicas: number,
): Partial<StreamConfig> & {
  name: string;
} {
  return {
    name: names.stream,
    subjects: [`${names.subjectPrefix}.*`],
    storage: StorageType.File,
    num_replicas: replicas,
    max_msgs_per_subject: 1,
    discard: DiscardPolicy.New,
    discard_new_per_subject: true,
    allow_direct: true,
    max_age: DUPLICATE_WINDOW_MS * 1_000_000, // nanoseconds
  };
}
