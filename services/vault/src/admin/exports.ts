/**
 * Exports: audited at the start (filter, reason) and at the end (count). Pages carry the filter
 * and are checked against the session each time; the admin plane unwraps each data key once.
 */
import { newRecordId, type RecordType } from '@coffer/protocol';
import type postgres from 'postgres';
import { openExportFor } from './export-binding.ts';
import { auditOrRefuse, sessionMaterial } from './records.ts';
import { AdminError, type AdminHandlers } from './router.ts';

/** Bytes of an X25519 record context's enc; an X-Wing one is 1,120. */
const X25519_ENC_LENGTH = 32;
export function exportHandlers(
  sql: postgres.Sql,
): Pick<AdminHandlers, 'export.begin' | 'export.page' | 'export.finish'> {
  return {
    'export.begin': async (req, { now, caller }) => {
      const exportId = newRecordId();
      const filter = { type: req.type ?? null, from: req.from ?? null, to: req.to ?? null };
      await sql.begin(async (tx) => {
        // issue 9 item 4: bound to this session.
        await tx`INSERT INTO exports (id, user_id, filter, started_at, session_id)
          VALUES (${exportId}, ${caller.userId}, ${tx.json(filter)}, ${now}, ${caller.sessionId})`;
        await auditOrRefuse(
          tx,
          {
            actor: caller.userId,
            action: 'export.start',
            target: exportId,
            reason: req.reason,
            outcome: 'success',
            origin: req.origin,
            details: filter,
          },
          now,
        );
      });
      return { exportId, session: sessionMaterial(caller) };
    },

    'export.page': async (req, { now, caller }) => {
      // issue 9 item 4: this session's export, not expired, capped at its start.
      const started = await openExportFor(sql, req.exportId, caller, now);
      const f = started.filter;
      const rows = await sql<
        {
          id: string;
          type: RecordType;
          data_key_id: string;
          sealed: Buffer;
          context_id: string | null;
          enc: Buffer | null;
          submitted_at: Date;
        }[]
      >`
        SELECT r.id, r.type, r.data_key_id, r.sealed, r.context_id, c.enc, r.submitted_at FROM records r
        LEFT JOIN record_contexts c ON c.id = r.context_id
        WHERE (${f.type}::text IS NULL OR r.type = ${f.type})
          AND (${f.from}::timestamptz IS NULL OR r.submitted_at >= ${f.from}::timestamptz)
          AND (${f.to}::timestamptz IS NULL OR r.submitted_at < ${f.to}::timestamptz)
          AND (${req.after ?? null}::uuid IS NULL OR r.id > ${req.after ?? null}::uuid)
          -- issue 9 item 4: capped at the export's start, by the vault's own storing time
          -- (submitted_at is ingest's word).
          AND r.stored_at <= ${started.startedAt}
        ORDER BY r.id LIMIT ${req.limit}`;
      // issue 9 item 4: count what was served, for the audit if this export is never finished.
      await sql`UPDATE exports SET served = served + ${rows.length} WHERE id::text = ${req.exportId}`;
      const keyIds = [...new Set(rows.map((r) => r.data_key_id))];
      const keys = keyIds.length
        ? await sql<{ key_id: string; wrapped: Buffer }[]>`SELECT key_id, wrapped FROM wrapped_keys
            WHERE key_kind = 'data' AND recipient_kind = 'user' AND recipient_id = ${caller.userId}
              AND key_id = ANY(${keyIds})`
        : [];
      // An X-Wing context's enc (1,120 bytes) goes once per page, not on each of its records;
      // X25519 ones (32 bytes) stay on the record, as admin planes before X-Wing read them.
      const contexts: Record<string, string> = {};
      for (const r of rows) {
        if (r.context_id && r.enc && r.enc.length > X25519_ENC_LENGTH)
          contexts[r.context_id] ??= r.enc.toString('base64');
      }
      return {
        records: rows.map((r) => ({
          id: r.id,
          type: r.type,
          dataKeyId: r.data_key_id,
          sealed: r.sealed.toString('base64'),
          contextEnc: r.enc && r.enc.length === X25519_ENC_LENGTH ? r.enc.toString('base64') : null,
          submittedAt: r.submitted_at.toISOString(),
        })),
        wrappedDataKeys: Object.fromEntries(keys.map((k) => [k.key_id, k.wrapped.toString('base64')])),
        ...(Object.keys(contexts).length ? { contexts } : {}),
      };
    },

    'export.finish': async (req, { now, caller }) => {
      await sql.begin(async (tx) => {
        const [open] = await tx`UPDATE exports SET finished_at = ${now}
          WHERE id::text = ${req.exportId} AND user_id = ${caller.userId} AND finished_at IS NULL RETURNING id`;
        if (!open) throw new AdminError('not-found', 'no open export of yours with this id');
        await auditOrRefuse(
          tx,
          {
            actor: caller.userId,
            action: 'export.finish',
            target: req.exportId,
            outcome: req.outcome === 'success' ? 'success' : 'failure',
            origin: req.origin,
            details: { count: req.count, aborted: req.outcome === 'aborted' },
          },
          now,
        );
      });
    },
  };
}
