/**
 * Exports: audited at the start (filter, reason) and at the end (count). Pages carry the filter
 * and are checked against the session each time; the admin plane unwraps each data key once.
 */
import { encodeExportPage, newRecordId, type RecordType, withAttachment } from '@coffer/protocol';
import type postgres from 'postgres';
import { Decoys } from '../decoys.ts';
import type { Caller } from './caller.ts';
import { openExportFor } from './export-binding.ts';
import { auditOrRefuse, sessionMaterial } from './records.ts';
import { AdminError, type AdminHandlers } from './router.ts';

/** Bytes of an X25519 record context's enc; an X-Wing one is 1,120. */
const X25519_ENC_LENGTH = 32;
/** Sealed bytes per binary page at most, so that its base64 stays under NATS's 1 MiB payload. */
const CHUNK_BYTES = 640 * 1024;

export function exportHandlers(
  sql: postgres.Sql,
  decoys: Decoys = new Decoys(undefined),
): Pick<AdminHandlers, 'export.begin' | 'export.page' | 'export.chunk' | 'export.block' | 'export.finish'> {
  return {
    'export.begin': async (req, { now, caller }) => {
      const exportId = newRecordId();
      const filter = { type: req.type ?? null, from: req.from ?? null, to: req.to ?? null };
      await sql.begin(async (tx) => {
        // issue 9 item 4: bound to this session.
        // issue 9 item 4c: started by the database's clock, as records' stored_at is.
        await tx`INSERT INTO exports (id, user_id, filter, started_at, session_id)
          VALUES (${exportId}, ${caller.userId}, ${tx.json(filter)}, now(), ${caller.sessionId})`;
        await auditOrRefuse(
          tx,
          {
            actor: caller.userId,
            action: 'export.start',
            target: exportId,
            reason: req.reason,
            outcome: 'success',
            origin: req.origin,
            details: { ...filter, ...(req.approvalId ? { approval: req.approvalId } : {}) },
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
        SELECT r.id, r.type, r.data_key_id, r.sealed, r.context_id, COALESCE(ce.enc, c.enc) AS enc, r.submitted_at
        FROM records r
        LEFT JOIN record_contexts c ON c.id = r.context_id
        -- migration 012: the exact context the record was sealed under (records before it: c.enc)
        LEFT JOIN record_context_encs ce ON ce.context_id = r.context_id AND ce.enc_sha256 = r.context_enc_sha256
        WHERE (${f.type}::text IS NULL OR r.type = ${f.type})
          AND (${f.from}::timestamptz IS NULL OR r.submitted_at >= ${f.from}::timestamptz)
          AND (${f.to}::timestamptz IS NULL OR r.submitted_at < ${f.to}::timestamptz)
          AND (${req.after ?? null}::uuid IS NULL OR r.id > ${req.after ?? null}::uuid)
          -- issue 9 item 4: capped at the export's start, by the vault's own storing time
          -- (submitted_at is ingest's word); both are the database's now().
          AND r.stored_at <= ${started.startedAt}
        ORDER BY r.id LIMIT ${req.limit}`;
      // issue 9 item 4: count what was served, for the audit if this export is never finished;
      // an export closed meanwhile (a vault restart closes all) serves nothing more.
      const [counted] = await sql`UPDATE exports SET served = served + ${rows.length}
        WHERE id::text = ${req.exportId} AND finished_at IS NULL RETURNING id`;
      if (!counted) throw new AdminError('not-found', 'this export was closed; start a new one');
      const keyIds = [...new Set(rows.map((r) => r.data_key_id))];
      const keys = keyIds.length
        ? await sql<{ key_id: string; wrapped: Buffer }[]>`SELECT key_id, wrapped FROM wrapped_keys
            WHERE key_kind = 'data' AND recipient_kind = 'user' AND recipient_id = ${caller.userId}
              AND key_id = ANY(${keyIds})`
        : [];
      raiseDecoyAlerts(
        decoys,
        await decoys.find(
          sql,
          rows.map((r) => r.id),
        ),
        caller,
        req.exportId,
      );
      const { inline, contexts } = pageContexts(rows);
      return {
        records: rows.map((r) => ({
          id: r.id,
          type: r.type,
          dataKeyId: r.data_key_id,
          sealed: r.sealed.toString('base64'),
          contextEnc: inline(r),
          submittedAt: r.submitted_at.toISOString(),
        })),
        wrappedDataKeys: Object.fromEntries(keys.map((k) => [k.key_id, k.wrapped.toString('base64')])),
        ...(Object.keys(contexts).length ? { contexts } : {}),
      };
    },

    'export.chunk': async (req, { now, caller, tx }) => {
      // Run in one transaction with the gate's session touch (ONE_TRANSACTION_OPS): one commit
      // per page, for the touch and the count served together.
      const { page, done, wrappedDataKeys } = await binaryPage(sql, tx ?? sql, decoys, req, caller, now);
      return { format: 1 as const, page: page.toString('base64'), done, wrappedDataKeys };
    },

    'export.block': async (req, { now, caller, tx }) => {
      // The same page, carried as the reply frame's attachment: no base64, no JSON around it.
      const { page, done, wrappedDataKeys } = await binaryPage(sql, tx ?? sql, decoys, req, caller, now);
      return withAttachment({ done, wrappedDataKeys }, page);
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

/**
 * The encs of a page's record contexts. An X-Wing one (1,120 bytes) travels once a
 * page in `contexts`, not on each of its records (a page of 1,000 would pass the bus's 1 MiB
 * message limit); an X25519 one (32 bytes) stays on the record, as admin planes before X-Wing read it.
 */
function pageContexts(rows: readonly { context_id: string | null; enc: Buffer | null }[]) {
  // By context id, the one enc the page's records of it were sealed under (migration 012 keeps a
  // forged enc beside the genuine one under the same id): null where two differ, which then travel
  // inline with each record instead.
  const once = new Map<string, Buffer | null>();
  for (const r of rows) {
    if (!r.context_id || !r.enc || r.enc.length <= X25519_ENC_LENGTH) continue;
    const seen = once.get(r.context_id);
    if (seen === undefined) once.set(r.context_id, r.enc);
    else if (seen !== null && !seen.equals(r.enc)) once.set(r.context_id, null);
  }
  const contexts: Record<string, string> = {};
  for (const [id, enc] of once) if (enc) contexts[id] = enc.toString('base64');
  const inline = (r: { context_id: string | null; enc: Buffer | null }): string | null => {
    if (!r.enc) return null;
    const shared = r.context_id ? once.get(r.context_id) : undefined;
    return r.enc.length === X25519_ENC_LENGTH || shared === null ? r.enc.toString('base64') : null;
  };
  return { inline, contexts };
}

/** issue 16 item 3: a page with a decoy is served whole; the alert follows. */
function raiseDecoyAlerts(decoys: Decoys, hits: Iterable<string>, caller: Caller, exportId: string): void {
  decoys.raise(
    [...hits].map((recordId) => ({
      recordId,
      userId: caller.userId,
      sessionId: caller.sessionId,
      via: 'export' as const,
      exportId,
    })),
  );
}

/** The caller's wrapped copy of each data key that `rows` use, by key id (base64). */
async function wrappedKeysFor(
  db: postgres.Sql | postgres.TransactionSql,
  userId: string,
  rows: readonly { data_key_id: string }[],
): Promise<Record<string, string>> {
  const keyIds = [...new Set(rows.map((r) => r.data_key_id))];
  if (!keyIds.length) return {};
  const keys = await db<{ key_id: string; wrapped: Buffer }[]>`SELECT key_id, wrapped FROM wrapped_keys
    WHERE key_kind = 'data' AND recipient_kind = 'user' AND recipient_id = ${userId} AND key_id = ANY(${keyIds})`;
  return Object.fromEntries(keys.map((k) => [k.key_id, k.wrapped.toString('base64')]));
}

interface PageRequest {
  readonly exportId: string;
  readonly after?: string | undefined;
  readonly limit: number;
}

/**
 * The next binary page of an export (protocol export-page.ts), as `export.chunk` and `export.block`
 * serve it: this session's export, capped at its start; the count served in `db` (the gate's
 * transaction); the decoy check on every page, decoy or not.
 */
async function binaryPage(
  sql: postgres.Sql,
  db: postgres.Sql | postgres.TransactionSql,
  decoys: Decoys,
  req: PageRequest,
  caller: Caller,
  now: Date,
): Promise<{ page: Buffer; done: boolean; wrappedDataKeys: Record<string, string> }> {
  const started = await openExportFor(db, req.exportId, caller, now);
  const f = started.filter;
  const rows = await db<
    {
      id: string;
      type: RecordType;
      data_key_id: string;
      sealed: Buffer;
      context_id: string | null;
      enc: Buffer | null;
      at: string;
    }[]
  >`
    SELECT r.id::text, r.type, r.data_key_id, r.sealed, r.context_id::text, COALESCE(ce.enc, c.enc) AS enc,
      to_char(r.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
    FROM records r
    LEFT JOIN record_contexts c ON c.id = r.context_id
    -- migration 012: the exact context the record was sealed under (records before it: c.enc)
    LEFT JOIN record_context_encs ce ON ce.context_id = r.context_id AND ce.enc_sha256 = r.context_enc_sha256
    WHERE (${f.type}::text IS NULL OR r.type = ${f.type})
      AND (${f.from}::timestamptz IS NULL OR r.submitted_at >= ${f.from}::timestamptz)
      AND (${f.to}::timestamptz IS NULL OR r.submitted_at < ${f.to}::timestamptz)
      AND (${req.after ?? null}::uuid IS NULL OR r.id > ${req.after ?? null}::uuid)
      AND r.stored_at <= ${started.startedAt}
    ORDER BY r.id LIMIT ${req.limit}`;
  // A page stops at CHUNK_BYTES of sealed data (at least one record); the rest comes next page.
  let bytes = 0;
  let kept = 0;
  while (
    kept < rows.length &&
    (kept === 0 || bytes + (rows[kept] as { sealed: Buffer }).sealed.length <= CHUNK_BYTES)
  ) {
    bytes += (rows[kept] as { sealed: Buffer }).sealed.length;
    kept++;
  }
  const page = rows.slice(0, kept);
  // issue 9 item 4: an export closed meanwhile (a vault restart closes all) serves nothing more.
  const [counted] = await db`UPDATE exports SET served = served + ${page.length}
    WHERE id::text = ${req.exportId} AND finished_at IS NULL RETURNING id`;
  if (!counted) throw new AdminError('not-found', 'this export was closed; start a new one');
  raiseDecoyAlerts(
    decoys,
    await decoys.find(
      sql,
      page.map((r) => r.id),
    ),
    caller,
    req.exportId,
  );
  return {
    page: encodeExportPage(
      page.map((r) => ({
        id: r.id,
        type: r.type,
        dataKeyId: r.data_key_id,
        sealed: r.sealed,
        contextId: r.context_id,
        contextEnc: r.context_id ? r.enc : null,
        submittedAt: r.at,
      })),
    ),
    done: kept === rows.length && rows.length < req.limit,
    wrappedDataKeys: await wrappedKeysFor(db, caller.userId, page),
  };
}
