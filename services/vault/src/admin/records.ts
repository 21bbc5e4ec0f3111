/**
 * Records, from the vault's side: metadata for anyone who may list, and for a reveal the sealed
 * value with this user's wrapped data key — returned only after the audit event is committed in
 * the same transaction. If the audit write fails, nothing is returned.
 */
import { AdminApi, decodeJson, type SealedForUser } from '@coffer/protocol';
import type postgres from 'postgres';
import { appendAudit } from '../audit.ts';
import { AdminError } from './router.ts';
import { authenticate, type Caller, requireMfa, requireRole } from './sessions.ts';

type Clock = () => Date;

/** Policy the vault enforces itself, whatever the admin plane checked. */
export interface AccessPolicy {
  /** Viewers and key-admins reveal and export only from a session opened with a TOTP code. */
  readonly requireMfa?: boolean;
}

/** Append an audit event; a failure to write it becomes 'audit-unavailable', never a silent pass. */
export async function auditOrRefuse(tx: postgres.TransactionSql, event: Parameters<typeof appendAudit>[1], now: Date) {
  try {
    await appendAudit(tx, event, now);
  } catch (err) {
    throw new AdminError('audit-unavailable', `the audit log refused the event: ${(err as Error).message}`);
  }
}

export function sessionMaterial(caller: Caller) {
  return { sessionId: caller.sessionId, userId: caller.userId, wrappedKey: caller.wrappedKey.toString('base64') };
}

export function recordHandlers(sql: postgres.Sql, clock: Clock, policy: AccessPolicy = {}) {
  return {
    'records.list': async (data: Uint8Array) => {
      const req = decodeJson(AdminApi['records.list'], data);
      const now = clock();
      const caller = await authenticate(sql, req.session, now);
      await requireRole(sql, caller, ['viewer', 'key-admin', 'auditor'], 'records.list', null, '', now);
      const rows = await sql<
        {
          id: string;
          type: string;
          hint: string | null;
          hint_source: string;
          data_key_id: string;
          submitted_at: Date;
        }[]
      >`
        SELECT id, type, hint, hint_source, data_key_id, submitted_at FROM records
        WHERE (${req.type ?? null}::text IS NULL OR type = ${req.type ?? null})
          AND (${req.before ?? null}::uuid IS NULL OR id < ${req.before ?? null}::uuid)
        ORDER BY id DESC LIMIT ${req.limit + 1}`;
      const items = rows.slice(0, req.limit).map((r) => ({
        id: r.id,
        type: r.type,
        hint: r.hint,
        // 'client': sealed by the submitter, so the hint is the client's claim, not checked by anyone.
        hintSource: r.hint_source,
        keyId: r.data_key_id,
        submittedAt: r.submitted_at.toISOString(),
      }));
      return { items, next: rows.length > req.limit ? (items.at(-1)?.id ?? null) : null };
    },

    'records.reveal': async (data: Uint8Array): Promise<SealedForUser> => {
      const req = decodeJson(AdminApi['records.reveal'], data);
      const now = clock();
      const caller = await authenticate(sql, req.session, now);
      await requireRole(sql, caller, ['viewer', 'key-admin'], 'record.reveal', req.recordId, req.origin, now);
      await requireMfa(sql, policy.requireMfa ?? false, caller, 'record.reveal', req.recordId, req.origin, now);
      const found = await sql<
        { id: string; type: string; data_key_id: string; sealed: Buffer; wrapped: Buffer | null }[]
      >`
        SELECT r.id, r.type, r.data_key_id, r.sealed, w.wrapped
        FROM records r
        LEFT JOIN wrapped_keys w ON w.key_kind = 'data' AND w.key_id = r.data_key_id
          AND w.recipient_kind = 'user' AND w.recipient_id = ${caller.userId}
        WHERE r.id = ${isUuid(req.recordId) ? req.recordId : null}::uuid`;
      const row = found[0];
      const event = {
        actor: caller.userId,
        action: 'record.reveal',
        target: req.recordId,
        reason: req.reason,
        origin: req.origin,
      };
      if (!row?.wrapped) {
        await sql.begin((tx) =>
          auditOrRefuse(tx, { ...event, outcome: 'failure', details: { error: row ? 'no-key' : 'not-found' } }, now),
        );
        throw row
          ? new AdminError('no-access', 'this user holds no key for the record')
          : new AdminError('not-found', 'no such record');
      }
      const wrapped = row.wrapped;
      return sql.begin(async (tx) => {
        await auditOrRefuse(tx, { ...event, outcome: 'success' }, now);
        return {
          record: { id: row.id, type: row.type, dataKeyId: row.data_key_id, sealed: row.sealed.toString('base64') },
          wrappedDataKey: wrapped.toString('base64'),
          session: sessionMaterial(caller),
        };
      });
    },

    'records.reveal-failed': async (data: Uint8Array) => {
      const req = decodeJson(AdminApi['records.reveal-failed'], data);
      const now = clock();
      const caller = await authenticate(sql, req.session, now);
      await requireRole(sql, caller, ['viewer', 'key-admin'], 'record.reveal', req.recordId, req.origin, now);
      await sql.begin((tx) =>
        auditOrRefuse(
          tx,
          {
            actor: caller.userId,
            action: 'record.reveal',
            target: req.recordId,
            outcome: 'failure',
            origin: req.origin,
            details: { error: req.error },
          },
          now,
        ),
      );
    },
  };
}

export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
