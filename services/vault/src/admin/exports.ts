/**
 * Exports: audited at the start (filter, reason) and at the end (count). Pages carry the filter
 * and are checked against the session each time; the admin plane unwraps each data key once.
 */
import { encodeExportPage, newRecordId, recordsWithin, withAttachment } from '@coffer/protocol';
import type postgres from 'postgres';
import { Decoys } from '../decoys.ts';
import type { Caller } from './caller.ts';
import { openExportFor } from './export-binding.ts';
import { type PageRecord, pageRecords } from './export-page-query.ts';
import { auditOrRefuse, sessionMaterial } from './records.ts';
import { AdminError, type AdminHandlers } from './router.ts';

/** Bytes of an X25519 record context's enc; an X-Wing one is 1,120. */
const X25519_ENC_LENGTH = 32;
/** Bytes per `export.chunk` page at most, so that its base64 in JSON stays under NATS's 1 MiB payload. */
const CHUNK_BYTES = 640 * 1024;
/**
 * Bytes per `export.block` page at most: it travels as it is in a reply frame, under the same
 * 1 MiB, beside the frame's head (163 bytes) and its JSON (the page's wrapped data keys, up to
 * ~1.6 KiB each for X-Wing): 128 KiB is left for those.
 */
const BLOCK_BYTES = 896 * 1024;

type Db = postgres.Sql | postgres.TransactionSql;

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
      const { records, wrappedDataKeys } = await servePage(sql, sql, decoys, req, caller, now, Infinity);
      const { inline, contexts } = pageContexts(records);
      return {
        records: records.map((r) => ({
          id: r.id,
          type: r.type,
          dataKeyId: r.dataKeyId,
          sealed: r.sealed.toString('base64'),
          contextEnc: inline(r),
          submittedAt: r.submittedAt,
        })),
        wrappedDataKeys,
        ...(Object.keys(contexts).length ? { contexts } : {}),
      };
    },

    'export.chunk': async (req, { now, caller, tx }) => {
      // Run in one transaction with the gate's session touch (ONE_TRANSACTION_OPS): one commit
      // per page, for the touch and the count served together.
      const { page, done, wrappedDataKeys } = await binaryPage(sql, tx ?? sql, decoys, req, caller, now, CHUNK_BYTES);
      return { format: 1 as const, page: page.toString('base64'), done, wrappedDataKeys };
    },

    'export.block': async (req, { now, caller, tx }) => {
      // The same page, carried as the reply frame's attachment: no base64, no JSON around it.
      const { page, done, wrappedDataKeys } = await binaryPage(sql, tx ?? sql, decoys, req, caller, now, BLOCK_BYTES);
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
function pageContexts(rows: readonly { contextId: string | null; contextEnc: Buffer | null }[]) {
  // By context id, the one enc the page's records of it were sealed under (migration 012 keeps a
  // forged enc beside the genuine one under the same id): null where two differ, which then travel
  // inline with each record instead.
  const once = new Map<string, Buffer | null>();
  for (const r of rows) {
    if (!r.contextId || !r.contextEnc || r.contextEnc.length <= X25519_ENC_LENGTH) continue;
    const seen = once.get(r.contextId);
    if (seen === undefined) once.set(r.contextId, r.contextEnc);
    else if (seen !== null && !seen.equals(r.contextEnc)) once.set(r.contextId, null);
  }
  const contexts: Record<string, string> = {};
  for (const [id, enc] of once) if (enc) contexts[id] = enc.toString('base64');
  const inline = (r: { contextId: string | null; contextEnc: Buffer | null }): string | null => {
    if (!r.contextEnc) return null;
    const shared = r.contextId ? once.get(r.contextId) : undefined;
    return r.contextEnc.length === X25519_ENC_LENGTH || shared === null ? r.contextEnc.toString('base64') : null;
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

interface PageRequest {
  readonly exportId: string;
  readonly after?: string | undefined;
  readonly limit: number;
}

/** The next binary page of an export (libs/protocol export-page.ts), within `budget` bytes. */
async function binaryPage(...args: Parameters<typeof servePage>) {
  const { records, done, wrappedDataKeys } = await servePage(...args);
  return { page: encodeExportPage(records), done, wrappedDataKeys };
}

/**
 * The next page of an export, in any form: this session's export, not expired, capped at its
 * start (issue 9 item 4); cut where a binary page (export-page.ts) would pass `budget` bytes;
 * the count served in `db` (the gate's transaction for the binary forms); the decoy check on
 * every page, decoy or not; the caller's wrapped copy of each data key the page uses.
 */
async function servePage(
  sql: postgres.Sql,
  db: Db,
  decoys: Decoys,
  req: PageRequest,
  caller: Caller,
  now: Date,
  budget: number,
): Promise<{ records: PageRecord[]; done: boolean; wrappedDataKeys: Record<string, string> }> {
  const started = await openExportFor(db, req.exportId, caller, now);
  const fetched = await pageRecords(db, started, req.after, req.limit);
  const kept = budget === Infinity ? fetched.length : recordsWithin(fetched, budget);
  const records = kept === fetched.length ? fetched : fetched.slice(0, kept);
  // issue 9 item 4: count what was served, for the audit if this export is never finished; an
  // export closed meanwhile (a vault restart closes all) serves nothing more.
  const [counted] = await db`UPDATE exports SET served = served + ${records.length}
    WHERE id::text = ${req.exportId} AND finished_at IS NULL RETURNING id`;
  if (!counted) throw new AdminError('not-found', 'this export was closed; start a new one');
  const hits = await decoys.find(
    sql,
    records.map((r) => r.id),
  );
  raiseDecoyAlerts(decoys, hits, caller, req.exportId);
  const keyIds = [...new Set(records.map((r) => r.dataKeyId))];
  const keys = keyIds.length
    ? await db<{ key_id: string; wrapped: Buffer }[]>`SELECT key_id, wrapped FROM wrapped_keys
        WHERE key_kind = 'data' AND recipient_kind = 'user' AND recipient_id = ${caller.userId}
          AND key_id = ANY(${keyIds})`
    : [];
  return {
    records,
    done: kept === fetched.length && fetched.length < req.limit,
    wrappedDataKeys: Object.fromEntries(keys.map((k) => [k.key_id, k.wrapped.toString('base64')])),
  };
}
