import { v7 } from 'uuid';

/** Record (and key, user) ids are UUIDv7: unique without coordination, sortable by time. */
export function newRecordId(): string {
  return v7();
}
