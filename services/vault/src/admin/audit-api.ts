/** The audit log for auditors and key-admins: pages of events, and a walk of the hash chain. */
import type postgres from 'postgres';
import { type AuditRow, storedEventOf } from '../audit.ts';
import type { AuditCheckpointer } from '../audit-checkpoints.ts';
import { verifyAuditLog } from '../audit-checkpoints.ts';
import type { AdminHandlers } from './router.ts';

export function auditHandlers(
  sql: postgres.Sql,
  checkpointer?: AuditCheckpointer,
): Pick<AdminHandlers, 'audit.list' | 'audit.verify'> {
  return {
    'audit.list': async (req) => {
      const rows = await sql<Pick<AuditRow, 'seq' | 'at' | 'actor' | 'action' | 'target' | 'reason' | 'outcome'>[]>`
        SELECT seq, at, actor, action, target, reason, outcome FROM audit_events
        WHERE seq > ${req.after ?? 0} ORDER BY seq LIMIT ${req.limit + 1}`;
      const items = rows.slice(0, req.limit).map(storedEventOf);
      return { items, next: rows.length > req.limit ? (items.at(-1)?.seq ?? null) : null };
    },

    'audit.verify': async () => {
      // The chain, and its head against the latest checkpoint signed outside the database; the key
      // is returned so that a reader can compare it with the one they pinned.
      const checkpoints = checkpointer ? { file: checkpointer.file, key: checkpointer.publicKey } : undefined;
      const verdict = await verifyAuditLog(sql, checkpoints ? { checkpoints } : {});
      return { ...verdict, checkpointKey: checkpointer?.publicKey.toBase64url() ?? null };
    },
  };
}
