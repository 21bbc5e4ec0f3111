/**
 * Export binding (issue 9, item 4). An export serves pages only to the session that began it
 * (not any session of the same user), only for EXPORT_MS after it began (an export is streamed in
 * one HTTP response; one left open is not a standing read grant), and only records submitted
 * before it began, so what the audit's `export.start` covers is fixed when it is written.
 */
import type postgres from 'postgres';
import { AdminError } from './router.ts';
import type { Caller } from './sessions.ts';

export const EXPORT_MS = 15 * 60 * 1000;

export interface OpenExport {
  readonly filter: { type: string | null; from: string | null; to: string | null };
  readonly startedAt: Date;
}

export async function openExportFor(
  sql: postgres.Sql,
  exportId: string,
  caller: Caller,
  now: Date,
): Promise<OpenExport> {
  const [row] = await sql<{ filter: OpenExport['filter']; started_at: Date; session_id: string | null }[]>`
    SELECT filter, started_at, session_id FROM exports
    WHERE id::text = ${exportId} AND user_id = ${caller.userId} AND finished_at IS NULL`;
  if (!row || row.session_id !== caller.sessionId) {
    throw new AdminError('not-found', 'no open export of this session with this id');
  }
  if (now.getTime() - row.started_at.getTime() > EXPORT_MS) {
    throw new AdminError('conflict', 'this export has expired; start a new one');
  }
  return { filter: row.filter, startedAt: row.started_at };
}
