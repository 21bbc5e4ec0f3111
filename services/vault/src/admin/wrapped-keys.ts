/**
 * Rows of `wrapped_keys`: a copy of the org key or of a data key, wrapped to one recipient (a
 * person or the recovery key). Bootstrap, confirmation, break-glass, a released recovery hold and
 * stored data keys all write them through here, one statement each.
 */
import type postgres from 'postgres';

export interface WrappedKeyRow {
  readonly key_kind: string;
  readonly key_id: string;
  readonly recipient_kind: string;
  readonly recipient_id: string;
  readonly wrapped: Buffer;
}

/** A copy as a request or a recovery hold carries it: the wrapped key in base64. */
export interface KeyCopy {
  readonly kind: string;
  readonly id: string;
  readonly wrapped: string;
}

/** The row of a copy wrapped to a person. */
export const copyToUser = (userId: string, c: KeyCopy): WrappedKeyRow => ({
  key_kind: c.kind,
  key_id: c.id,
  recipient_kind: 'user',
  recipient_id: userId,
  wrapped: Buffer.from(c.wrapped, 'base64'),
});

/**
 * Stores the rows in one statement (none: nothing). A row already stored for the same key and
 * recipient fails the statement, unless `onConflict` keeps the stored copy or replaces it.
 */
export async function insertWrappedKeys(
  tx: postgres.TransactionSql,
  rows: readonly WrappedKeyRow[],
  onConflict: 'fail' | 'keep' | 'replace' = 'fail',
): Promise<void> {
  if (rows.length === 0) return;
  const values = tx(rows as WrappedKeyRow[], 'key_kind', 'key_id', 'recipient_kind', 'recipient_id', 'wrapped');
  if (onConflict === 'keep') await tx`INSERT INTO wrapped_keys ${values} ON CONFLICT DO NOTHING`;
  else if (onConflict === 'replace')
    await tx`INSERT INTO wrapped_keys ${values}
      ON CONFLICT (key_kind, key_id, recipient_id) DO UPDATE SET wrapped = EXCLUDED.wrapped`;
  else await tx`INSERT INTO wrapped_keys ${values}`;
}
