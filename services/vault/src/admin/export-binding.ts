/**
 * Export binding (issue 9, item 4). An export serves pages only to the session that began it
 * (not any session of the same user), only for EXPORT_MS after it began (an export is streamed in
 * one HTTP response; one left open is not a standing read grant), and only records submitted
 * before it began, so what the audit's `export.start` covers is fixed when it is written.
 */
import type postgres from 'postgres';
import { appendAudit } from '../audit.ts';
import type { Caller } from './caller.ts';
import { AdminError } from './router.ts';

export const EXPORT_MS = 15 * 60 * 1000;

export interface OpenExport {
  readonly filter: { type: string | null; from: string | null; to: string | null };
  readonly startedAt: Date;
}

export async function openExportFor(
  sql: postgres.Sql | postgres.TransactionSql,
  exportId: string,
  caller: Caller,
  _now: Date,
): Promise<OpenExport> {
  // One clock (issue 9 item 4c): the start, the expiry and the records' stored_at are all the
  // database's now(), so a vault whose clock is off neither widens nor narrows the cap.
  const [row] = await sql<
    { filter: OpenExport['filter']; started_at: Date; session_id: string | null; expired: boolean }[]
  >`
    SELECT filter, started_at, session_id, now() - started_at > ${`${EXPORT_MS} milliseconds`}::interval AS expired
    FROM exports WHERE id::text = ${exportId} AND user_id = ${caller.userId} AND finished_at IS NULL`;
  if (!row || row.session_id !== caller.sessionId) {
    throw new AdminError('not-found', 'no open export of this session with this id');
  }
  if (row.expired) {
    throw new AdminError('conflict', 'this export has expired; start a new one');
  }
  return { filter: row.filter, startedAt: row.started_at };
}

/**
 * Close in the audit every export left open past its expiry (the admin plane died, or the vault
 * did mid-export and is now back): `export.finish`, outcome failure, `interrupted`, with the count
 * the vault served. The janitor closes only expired ones; at vault start (`atStart`) all open ones
 * are closed. Returns how many were closed.
 */
export async function closeInterruptedExports(sql: postgres.Sql, now: Date, atStart = false): Promise<number> {
  const idle = `${EXPORT_MS} milliseconds`;
  return sql.begin(async (tx) => {
    // At start every open export is closed (issue 9 item 4b): one this vault served died with it,
    // and one another replica serves is refused its next page, so its client sees it interrupted
    // (no trailer line) and the audit's count is exact either way.
    const open = await tx<{ id: string; user_id: string; served: number }[]>`
      UPDATE exports SET finished_at = ${now}
      WHERE finished_at IS NULL AND (${atStart} OR started_at < now() - ${idle}::interval)
      RETURNING id, user_id, served`;
    for (const e of open) {
      await appendAudit(
        tx,
        {
          actor: e.user_id,
          action: 'export.finish',
          target: e.id,
          outcome: 'failure',
          origin: 'vault',
          details: { count: e.served, interrupted: true },
        },
        now,
      );
    }
    return open.length;
  });
}
