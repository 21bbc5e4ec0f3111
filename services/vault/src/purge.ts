/**
 * Retention and crypto-shredding. Records past their expires_at are deleted; then every data key
 * whose window has ended and that no record is sealed to any more is destroyed: its wrapped copies
 * and its row (public part, bundle, signature) go, so nothing can ever open what was sealed to it,
 * including copies of those records in old backups once the backups holding the key have expired.
 * Runs on the vault's minute timer; `now` moves time in tests.
 */
import type postgres from 'postgres';
import { appendAudit } from './audit.ts';

export interface PurgeResult {
  readonly records: number;
  readonly dataKeys: number;
}

/** Rows per DELETE statement, so one statement never has to hold a whole backlog. */
const BATCH = 10_000;
// Names the purge lock in pg_locks: two vault replicas never purge records at the same time.
const PURGE_LOCK = 0x636f66666570;

export async function purgeExpired(sql: postgres.Sql, now: Date): Promise<PurgeResult> {
  const records = await purgeRecords(sql, now);
  let dataKeys = 0;
  const candidates = await sql<{ id: string }[]>`
    SELECT d.id FROM data_keys d
    WHERE d.not_after <= ${now} AND NOT EXISTS (SELECT 1 FROM records r WHERE r.data_key_id = d.id)
    ORDER BY d.not_after, d.id`;
  for (const { id } of candidates) {
    if (await destroyDataKey(sql, id, now)) dataKeys++;
  }
  return { records, dataKeys };
}

/**
 * Delete expired records in batches, all in one transaction with the `records.purge` event: the
 * log never misses a deletion, and a failed run deletes nothing.
 */
async function purgeRecords(sql: postgres.Sql, now: Date): Promise<number> {
  return sql.begin(async (tx) => {
    const [lock] = await tx<{ ok: boolean }[]>`SELECT pg_try_advisory_xact_lock(${PURGE_LOCK}) AS ok`;
    if (!lock?.ok) return 0; // another replica is purging right now
    let total = 0;
    for (;;) {
      const { count } = await tx`DELETE FROM records WHERE id IN (
        SELECT id FROM records WHERE expires_at <= ${now} LIMIT ${BATCH})`;
      total += count;
      if (count < BATCH) break;
    }
    if (total > 0) {
      await appendAudit(
        tx,
        { actor: 'vault', action: 'records.purge', outcome: 'success', details: { count: total } },
        now,
      );
    }
    return total;
  });
}

/**
 * One key, one transaction with its `data-key.destroy` event. The DELETE re-checks both rules
 * itself; a record sealed to the key that commits meanwhile makes the foreign key refuse it (23503),
 * and the key stays.
 */
async function destroyDataKey(sql: postgres.Sql, id: string, now: Date): Promise<boolean> {
  try {
    return await sql.begin(async (tx) => {
      const [key] = await tx<{ not_before: Date; not_after: Date }[]>`
        DELETE FROM data_keys
        WHERE id = ${id} AND not_after <= ${now} AND NOT EXISTS (SELECT 1 FROM records WHERE data_key_id = ${id})
        RETURNING not_before, not_after`;
      if (!key) return false;
      const copies = await tx`DELETE FROM wrapped_keys WHERE key_kind = 'data' AND key_id = ${id}`;
      await appendAudit(
        tx,
        {
          actor: 'vault',
          action: 'data-key.destroy',
          target: id,
          outcome: 'success',
          details: {
            notBefore: key.not_before.toISOString(),
            notAfter: key.not_after.toISOString(),
            wrappedCopies: copies.count,
          },
        },
        now,
      );
      return true;
    });
  } catch (err) {
    if ((err as { code?: unknown }).code === '23503') return false;
    throw err;
  }
}
