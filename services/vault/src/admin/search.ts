/**
 * Searching for the console: records metadata by type and submission time, and the audit log
 * newest first with filters and paging both ways (a viewer sees only their own events). Reading
 * them is not itself audited, like
 * `records.list` and `audit.list`.
 */
import type postgres from 'postgres';
import { type AuditRow, storedEventOf } from '../audit.ts';
import { type RecordMetaRow, recordMetaPage } from './records.ts';
import type { AdminHandlers } from './router.ts';

export function searchHandlers(sql: postgres.Sql): Pick<AdminHandlers, 'records.search' | 'audit.search'> {
  return {
    'records.search': async (req) => {
      const rows = await sql<RecordMetaRow[]>`SELECT id, type, hint, hint_source, data_key_id, submitted_at FROM records
        WHERE true
          ${req.type ? sql`AND type = ${req.type}` : sql``}
          ${req.from ? sql`AND submitted_at >= ${new Date(req.from)}` : sql``}
          ${req.to ? sql`AND submitted_at < ${new Date(req.to)}` : sql``}
          ${req.before ? sql`AND id < ${req.before}::uuid` : sql``}
        ORDER BY id DESC LIMIT ${req.limit + 1}`;
      return recordMetaPage(rows, req.limit);
    },

    'audit.search': async (req, { caller }) => {
      // A viewer reads only their own trail (what they revealed and exported); auditors and
      // key-admins read everyone's. The policy admitted only confirmed users of these roles.
      const ownOnly = caller.role === 'viewer';
      const forward = req.after !== undefined;
      // Columns in the reply's order: actorEmail comes right after actor.
      const rows = await sql<(AuditRow & { actorEmail: string | null })[]>`
        SELECT a.seq, a.at, a.actor, u.email AS "actorEmail", a.action, a.target, a.reason, a.outcome, a.origin,
          a.details
        FROM audit_events a LEFT JOIN users u ON u.id::text = a.actor
        WHERE true
          ${req.before !== undefined ? sql`AND a.seq < ${req.before}` : sql``}
          ${req.after !== undefined ? sql`AND a.seq > ${req.after}` : sql``}
          ${ownOnly ? sql`AND a.actor = ${caller.userId}` : sql``}
          ${req.actor ? sql`AND (a.actor = ${req.actor} OR lower(u.email) = lower(${req.actor}))` : sql``}
          ${req.action ? sql`AND a.action = ${req.action}` : sql``}
          ${req.target ? sql`AND a.target = ${req.target}` : sql``}
          ${req.outcome ? sql`AND a.outcome = ${req.outcome}` : sql``}
          ${req.from ? sql`AND a.at >= ${new Date(req.from)}` : sql``}
          ${req.to ? sql`AND a.at < ${new Date(req.to)}` : sql``}
        ORDER BY a.seq ${forward ? sql`ASC` : sql`DESC`} LIMIT ${req.limit + 1}`;
      const more = rows.length > req.limit;
      const page = rows.slice(0, req.limit);
      if (forward) page.reverse();
      const items = page.map(storedEventOf);
      const first = items[0]?.seq ?? null;
      const last = items.at(-1)?.seq ?? null;
      // Cursors: `older` for before=, `newer` for after=; null when that way holds nothing more.
      return {
        items,
        older: (forward ? items.length > 0 : more) ? last : null,
        newer: (forward ? more : req.before !== undefined && items.length > 0) ? first : null,
      };
    },
  };
}
