/**
 * Exports: audited at the start (filter, reason) and at the end (count). Pages carry the filter
 * and are checked against the session each time; the admin plane unwraps each data key once.
 */
import { AdminApi, decodeJson, newRecordId } from '@coffer/protocol';
import type postgres from 'postgres';
import { auditOrRefuse, sessionMaterial } from './records.ts';
import { authenticate, requireRole } from './sessions.ts';

type Clock = () => Date;
const EXPORTERS = ['viewer', 'key-admin'] as const;

export function exportHandlers(sql: postgres.Sql, clock: Clock) {
  return {
    'export.begin': async (data: Uint8Array) => {
      const req = decodeJson(AdminApi['export.begin'], data);
      const now = clock();
      const caller = await authenticate(sql, req.session, now);
      await requireRole(sql, caller, EXPORTERS, 'export', null, req.origin, now);
      const exportId = newRecordId();
      await sql.begin((tx) =>
        auditOrRefuse(
          tx,
          {
            actor: caller.userId,
            action: 'export.start',
            target: exportId,
            reason: req.reason,
            outcome: 'success',
            origin: req.origin,
            details: { type: req.type ?? null, from: req.from ?? null, to: req.to ?? null },
          },
          now,
        ),
      );
      return { exportId, session: sessionMaterial(caller) };
    },

    'export.page': async (data: Uint8Array) => {
      const req = decodeJson(AdminApi['export.page'], data);
      const now = clock();
      const caller = await authenticate(sql, req.session, now);
      await requireRole(sql, caller, EXPORTERS, 'export', req.exportId, '', now);
      const rows = await sql<{ id: string; type: string; data_key_id: string; sealed: Buffer; submitted_at: Date }[]>`
        SELECT id, type, data_key_id, sealed, submitted_at FROM records
        WHERE (${req.type ?? null}::text IS NULL OR type = ${req.type ?? null})
          AND (${req.from ?? null}::timestamptz IS NULL OR submitted_at >= ${req.from ?? null}::timestamptz)
          AND (${req.to ?? null}::timestamptz IS NULL OR submitted_at < ${req.to ?? null}::timestamptz)
          AND (${req.after ?? null}::uuid IS NULL OR id > ${req.after ?? null}::uuid)
        ORDER BY id LIMIT ${req.limit}`;
      const keyIds = [...new Set(rows.map((r) => r.data_key_id))];
      const keys = keyIds.length
        ? await sql<{ key_id: string; wrapped: Buffer }[]>`SELECT key_id, wrapped FROM wrapped_keys
            WHERE key_kind = 'data' AND recipient_kind = 'user' AND recipient_id = ${caller.userId}
              AND key_id = ANY(${keyIds})`
        : [];
      return {
        records: rows.map((r) => ({
          id: r.id,
          type: r.type,
          dataKeyId: r.data_key_id,
          sealed: r.sealed.toString('base64'),
          submittedAt: r.submitted_at.toISOString(),
        })),
        wrappedDataKeys: Object.fromEntries(keys.map((k) => [k.key_id, k.wrapped.toString('base64')])),
      };
    },

    'export.finish': async (data: Uint8Array) => {
      const req = decodeJson(AdminApi['export.finish'], data);
      const now = clock();
      const caller = await authenticate(sql, req.session, now);
      await sql.begin((tx) =>
        auditOrRefuse(
          tx,
          {
            actor: caller.userId,
            action: 'export.finish',
            target: req.exportId,
            outcome: req.outcome,
            origin: req.origin,
            details: { count: req.count },
          },
          now,
        ),
      );
    },
  };
}
