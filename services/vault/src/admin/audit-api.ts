/** The audit log for auditors and key-admins: pages of events, and a walk of the hash chain. */
import { AdminApi, decodeJson } from '@coffer/protocol';
import type postgres from 'postgres';
import type { AuditCheckpointer } from '../audit-checkpoints.ts';
import { verifyAuditLog } from '../audit-checkpoints.ts';
import { authenticate, requireRole } from './sessions.ts';

type Clock = () => Date;
const READERS = ['auditor', 'key-admin'] as const;

export function auditHandlers(sql: postgres.Sql, clock: Clock, checkpointer?: AuditCheckpointer) {
  return {
    'audit.list': async (data: Uint8Array) => {
      const req = decodeJson(AdminApi['audit.list'], data);
      const now = clock();
      const caller = await authenticate(sql, req.session, now);
      await requireRole(sql, caller, READERS, 'audit.list', null, '', now);
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

    'audit.verify': async (data: Uint8Array) => {
      const req = decodeJson(AdminApi['audit.verify'], data);
      const now = clock();
      const caller = await authenticate(sql, req.session, now);
      await requireRole(sql, caller, READERS, 'audit.verify', null, '', now);
      // The chain, and its head against the latest checkpoint signed outside the database; the key
      // is returned so that a reader can compare it with the one they pinned.
      const checkpoints = checkpointer ? { file: checkpointer.file, key: checkpointer.publicKey } : undefined;
      const verdict = await verifyAuditLog(sql, checkpoints ? { checkpoints } : {});
      return { ...verdict, checkpointKey: checkpointer?.publicKey.toBase64url() ?? null };
    },
  };
}
