import { v7 } from 'uuid';

/** Record (and key, user) ids are UUIDv7: unique without coordination, sortable by time. */
export function newRecordId(): string {
  return v7();
}

/** A UUIDv7 for an instant in the past: a decoy record (issue 16, item 3) is dated like a real one. */
export function recordIdAt(ms: number): string {
  return v7({ msecs: ms });
}
