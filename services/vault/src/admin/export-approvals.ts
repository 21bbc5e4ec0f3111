/**
 * Two-person rule for large exports (issue 16, item 4a), off unless configured: an export whose
 * filter selects more than `exportApprovalAbove` records is first requested (audited), then
 * approved or denied by a second key-admin (never the requester; audited), then run by the
 * requester with the same filter within `approvalMinutes` of the approval, once. The count is
 * taken when the export begins, over what it would serve (records stored by then).
 */
import { newRecordId, type RecordType } from '@coffer/protocol';
import type postgres from 'postgres';
import type { Caller } from './caller.ts';
import { auditOrRefuse } from './records.ts';
import { AdminError, type AdminHandlers } from './router.ts';

export interface TwoPersonRules {
  /** An export selecting more records than this needs a second key-admin; unset: rule off. */
  readonly exportApprovalAbove?: number;
  /** Minutes an approval stays usable, and (×4) a pending request stays decidable. Default 15. */
  readonly approvalMinutes?: number;
  /** Confirming a key-admin needs a second key-admin to compare the fingerprint too. Default off. */
  readonly confirmKeyAdminCosign?: boolean;
  /** A key-admin made by break-glass recovery gets keys only after this many minutes. Default: at once. */
  readonly recoveryDelayMinutes?: number;
}

type Filter = {
  readonly type: RecordType | null;
  readonly from: string | null;
  readonly to: string | null;
};

interface ApprovalRow {
  id: string;
  requester: string;
  requester_email: string | null;
  filter: Filter;
  reason: string;
  records: number;
  requested_at: Date;
  decided_by: string | null;
  decision: 'approved' | 'denied' | null;
  decided_at: Date | null;
  used_at: Date | null;
}

const MINUTE = 60_000;
const windowMs = (rules: TwoPersonRules) => (rules.approvalMinutes ?? 15) * MINUTE;

export const filterOf = (req: { type?: RecordType; from?: string; to?: string }): Filter => ({
  type: req.type ?? null,
  from: req.from ?? null,
  to: req.to ?? null,
});

async function countSelected(sql: postgres.Sql, f: Filter, now: Date): Promise<number> {
  const [row] = await sql<{ n: string }[]>`SELECT count(*) AS n FROM records
    WHERE (${f.type}::text IS NULL OR type = ${f.type})
      AND (${f.from}::timestamptz IS NULL OR submitted_at >= ${f.from}::timestamptz)
      AND (${f.to}::timestamptz IS NULL OR submitted_at < ${f.to}::timestamptz)
      AND stored_at <= ${now}`;
  return Number(row?.n ?? 0);
}

function statusOf(row: ApprovalRow, rules: TwoPersonRules, now: Date) {
  const window = windowMs(rules);
  if (row.decision === 'denied') return 'denied' as const;
  if (row.decision === 'approved') {
    if (row.used_at) return 'used' as const;
    return (row.decided_at as Date).getTime() + window > now.getTime() ? ('approved' as const) : ('expired' as const);
  }
  return row.requested_at.getTime() + 4 * window > now.getTime() ? ('pending' as const) : ('expired' as const);
}

function view(row: ApprovalRow, rules: TwoPersonRules, now: Date) {
  const status = statusOf(row, rules, now);
  return {
    id: row.id,
    requester: row.requester,
    requesterEmail: row.requester_email,
    filter: row.filter,
    reason: row.reason,
    records: row.records,
    requestedAt: row.requested_at.toISOString(),
    status,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at?.toISOString() ?? null,
    usableUntil:
      row.decision === 'approved' ? new Date((row.decided_at as Date).getTime() + windowMs(rules)).toISOString() : null,
  };
}

const selectApprovals = (sql: postgres.Sql | postgres.TransactionSql) => sql`
  SELECT a.id, a.requester, u.email AS requester_email, a.filter, a.reason, a.records, a.requested_at,
         a.decided_by, a.decision, a.decided_at, a.used_at
  FROM export_approvals a LEFT JOIN users u ON u.id = a.requester`;

/**
 * Before an export begins: under the threshold (or with the rule off) nothing; above it, the
 * caller's approved, unexpired, unused request for exactly this filter is used up, or the export
 * is refused.
 */
export async function requireExportApproval(
  sql: postgres.Sql,
  rules: TwoPersonRules,
  req: { type?: RecordType; from?: string; to?: string; approvalId?: string },
  caller: Caller,
  now: Date,
): Promise<void> {
  const above = rules.exportApprovalAbove;
  if (above === undefined) return;
  const filter = filterOf(req);
  if ((await countSelected(sql, filter, now)) <= above) return;
  if (!req.approvalId) {
    throw new AdminError('approval-required', `an export of more than ${above} records needs a second key-admin`);
  }
  const since = new Date(now.getTime() - windowMs(rules));
  const [used] = await sql`UPDATE export_approvals SET used_at = ${now}
    WHERE id = ${req.approvalId}::uuid AND requester = ${caller.userId} AND decision = 'approved'
      AND used_at IS NULL AND decided_at > ${since} AND filter = ${sql.json(filter)}::jsonb
    RETURNING id`;
  if (!used) {
    throw new AdminError('approval-required', 'no approved, unused and unexpired request of yours for this filter');
  }
}

export function exportApprovalHandlers(
  sql: postgres.Sql,
  rules: TwoPersonRules,
): Pick<AdminHandlers, 'export.request' | 'export.approvals' | 'export.decide'> {
  return {
    'export.request': async (req, { now, caller }) => {
      const filter = filterOf(req);
      const records = await countSelected(sql, filter, now);
      const above = rules.exportApprovalAbove;
      if (above === undefined || records <= above) return { required: false, records, approval: null };
      const id = newRecordId();
      await sql.begin(async (tx) => {
        await tx`INSERT INTO export_approvals (id, requester, filter, reason, records, requested_at)
          VALUES (${id}, ${caller.userId}, ${tx.json(filter)}, ${req.reason}, ${records}, ${now})`;
        await auditOrRefuse(
          tx,
          {
            actor: caller.userId,
            action: 'export.request',
            target: id,
            reason: req.reason,
            outcome: 'success',
            origin: req.origin,
            details: { ...filter, records },
          },
          now,
        );
      });
      const [row] = await sql<ApprovalRow[]>`${selectApprovals(sql)} WHERE a.id = ${id}`;
      return { required: true, records, approval: view(row as ApprovalRow, rules, now) };
    },

    'export.approvals': async (_req, { now, caller }) => {
      // Key-admins decide, so they see everyone's; a viewer follows their own requests.
      const since = new Date(now.getTime() - 24 * 60 * MINUTE);
      const rows = await sql<ApprovalRow[]>`${selectApprovals(sql)}
        WHERE a.requested_at > ${since}
          ${caller.role === 'key-admin' ? sql`` : sql`AND a.requester = ${caller.userId}`}
        ORDER BY a.requested_at DESC LIMIT 200`;
      return { items: rows.map((r) => view(r, rules, now)) };
    },

    'export.decide': async (req, { now, caller }) =>
      sql.begin(async (tx) => {
        const [row] = await tx<ApprovalRow[]>`${selectApprovals(tx)} WHERE a.id = ${req.approvalId} FOR UPDATE OF a`;
        if (!row) throw new AdminError('not-found', 'no such export request');
        if (row.requester === caller.userId) {
          throw new AdminError('forbidden', 'a second key-admin must decide: not the requester');
        }
        if (statusOf(row, rules, now) !== 'pending') throw new AdminError('conflict', 'this request is not pending');
        const decision = req.decision === 'approve' ? 'approved' : 'denied';
        await tx`UPDATE export_approvals SET decision = ${decision}, decided_by = ${caller.userId}, decided_at = ${now}
          WHERE id = ${row.id}`;
        await auditOrRefuse(
          tx,
          {
            actor: caller.userId,
            action: req.decision === 'approve' ? 'export.approve' : 'export.deny',
            target: row.id,
            outcome: 'success',
            origin: req.origin,
            details: { requester: row.requester, records: row.records },
          },
          now,
        );
        return view({ ...row, decision, decided_by: caller.userId, decided_at: now }, rules, now);
      }),
  };
}
