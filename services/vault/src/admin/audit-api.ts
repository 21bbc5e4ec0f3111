/** The audit log for auditors and key-admins: pages of events, and a walk of the hash chain. */
import type postgres from 'postgres';
import { verifyAuditChain } from '../audit.ts';
import type { AdminHandlers } from './router.ts';

export function auditHandlers(sql: postgres.Sql): Pick<AdminHandlers, 'audit.list' | 'audit.verify'> {
  return {
    'audit.list': async (req) => {
      const rows = await sql<
        {
          seq: string;
          at: Date;
          actor: string;
          action: string;
          target: string | null;
          reason: string | null;
          outcome: string;
        }[]
      >`SELECT seq, at, actor, action, target, reason, outcome FROM audit_events
        WHERE seq > ${req.after ?? 0} ORDER BY seq LIMIT ${req.limit + 1}`;
      const items = rows.slice(0, req.limit).map((r) => ({ ...r, seq: Number(r.seq), at: r.at.toISOString() }));
      return { items, next: rows.length > req.limit ? (items.at(-1)?.seq ?? null) : null };
    },

    'audit.verify': () => verifyAuditChain(sql),
  };
}
