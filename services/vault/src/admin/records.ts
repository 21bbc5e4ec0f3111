/**
 * Records, from the vault's side: metadata for anyone who may list, and for a reveal the sealed
 * value with this user's wrapped data key — returned only after the audit event is committed in
 * the same transaction. If the audit write fails, nothing is returned.
 */
import type { AdminRequest, RecordType } from '@coffer/protocol';
import type postgres from 'postgres';
import { type AuditEvent, type AuditHead, appendAudit, lockAuditHead } from '../audit.ts';
import { Decoys } from '../decoys.ts';
import type { Caller } from './policy.ts';
import { AdminError, type AdminHandlers, type OpContext } from './router.ts';

/** Append an audit event; a failure to write it becomes 'audit-unavailable', never a silent pass. */
export async function auditOrRefuse(
  tx: postgres.TransactionSql,
  event: AuditEvent,
  now: Date,
  head?: Promise<AuditHead>,
) {
  try {
    await appendAudit(tx, event, now, head);
  } catch (err) {
    throw new AdminError('audit-unavailable', `the audit log refused the event: ${(err as Error).message}`);
  }
}

export function sessionMaterial(caller: Caller) {
  return { sessionId: caller.sessionId, userId: caller.userId, wrappedKey: caller.wrappedKey.toString('base64') };
}

/** A records row as the list and the search read it: metadata only, never the sealed value. */
export interface RecordMetaRow {
  id: string;
  type: RecordType;
  hint: string | null;
  hint_source: 'ingest' | 'client';
  data_key_id: string;
  submitted_at: Date;
}

/** One page of metadata, newest first: `limit + 1` rows were read, so whether more follow is known. */
export function recordMetaPage(rows: readonly RecordMetaRow[], limit: number) {
  const items = rows.slice(0, limit).map((r) => ({
    id: r.id,
    type: r.type,
    hint: r.hint,
    // 'client': sealed by the submitter, so the hint is the client's claim, not checked by anyone;
    // the console marks it.
    hintSource: r.hint_source,
    keyId: r.data_key_id,
    submittedAt: r.submitted_at.toISOString(),
  }));
  return { items, next: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

export function recordHandlers(
  sql: postgres.Sql,
  decoys: Decoys = new Decoys(undefined),
): Pick<AdminHandlers, 'records.list' | 'records.reveal' | 'records.reveal-failed'> {
  return {
    'records.list': async (req) => {
      const rows = await sql<RecordMetaRow[]>`
        SELECT id, type, hint, hint_source, data_key_id, submitted_at FROM records
        WHERE (${req.type ?? null}::text IS NULL OR type = ${req.type ?? null})
          AND (${req.before ?? null}::uuid IS NULL OR id < ${req.before ?? null}::uuid)
        ORDER BY id DESC LIMIT ${req.limit + 1}`;
      return recordMetaPage(rows, req.limit);
    },

    'records.reveal': (req, context) => reveal(sql, decoys, req, context),

    'records.reveal-failed': async (req, { now, caller }) => {
      const { recordId: target, origin, error } = req;
      const event = { actor: caller.userId, action: 'record.reveal', target, outcome: 'failure', origin } as const;
      await sql.begin((tx) => auditOrRefuse(tx, { ...event, details: { error } }, now));
    },
  };
}

/** A record as a reveal reads it, with this user's wrapped copy of its data key (or null). */
interface RevealRow {
  id: string;
  type: RecordType;
  data_key_id: string;
  sealed: Buffer;
  enc: Buffer | null;
  wrapped: Buffer | null;
}

function selectForReveal(db: postgres.Sql | postgres.TransactionSql, recordId: string | null, userId: string) {
  return db<RevealRow[]>`
    SELECT r.id, r.type, r.data_key_id, r.sealed, COALESCE(ce.enc, c.enc) AS enc, w.wrapped
    FROM records r
    LEFT JOIN record_contexts c ON c.id = r.context_id
    -- migration 012: the exact context the record was sealed under (records before it: c.enc)
    LEFT JOIN record_context_encs ce ON ce.context_id = r.context_id AND ce.enc_sha256 = r.context_enc_sha256
    LEFT JOIN wrapped_keys w ON w.key_kind = 'data' AND w.key_id = r.data_key_id
      AND w.recipient_kind = 'user' AND w.recipient_id = ${userId}
    WHERE r.id = ${recordId}::uuid`.execute();
}

/**
 * Run by the router in one transaction with the gate's session touch (ONE_TRANSACTION_OPS): the
 * touch, the audit event and the reply commit together, once. The statements go in two round trips
 * besides BEGIN, the touch and COMMIT: the record, its decoy check and the audit lock with the
 * chain's head (lockAuditHead) sent at once, then the request claim and the audit event. Without
 * that transaction (a dispatcher wired without it), each audit write gets its own.
 */
async function reveal(
  sql: postgres.Sql,
  decoys: Decoys,
  req: AdminRequest<'records.reveal'>,
  { now, caller, tx }: OpContext<'records.reveal'>,
) {
  const recordId = isUuid(req.recordId) ? req.recordId : null;
  const selected = selectForReveal(tx ?? sql, recordId, caller.userId);
  // issue 16 item 3: every reveal is checked the same way, before it is audited as served.
  const decoy = recordId ? decoys.find(tx ?? sql, [recordId]) : Promise.resolve(new Set<string>());
  // Both outcomes below append an audit event, so the lock is taken now, beside the reads.
  const head = tx ? lockAuditHead(tx) : undefined;
  const audited = <T>(fn: (t: postgres.TransactionSql, h?: Promise<AuditHead>) => Promise<T>): Promise<T> =>
    tx ? fn(tx, head) : (sql.begin((t) => fn(t)) as Promise<T>);
  const [[row], decoyHits] = await Promise.all([selected, decoy]);
  const { reason, origin } = req;
  const audit = { actor: caller.userId, action: 'record.reveal', target: req.recordId, reason, origin };
  if (!row?.wrapped) {
    const details = { error: row ? 'no-key' : 'not-found' };
    await audited((t, h) => auditOrRefuse(t, { ...audit, outcome: 'failure', details }, now, h));
    throw row
      ? new AdminError('no-access', 'this user holds no key for the record')
      : new AdminError('not-found', 'no such record');
  }
  const { wrapped } = row;
  const reply = await audited(async (t, h) => {
    const requestId = req.requestId ? { details: { requestId: req.requestId } } : {};
    // Sent together: the claim (issue 9 item 4d) and the event; either failing fails the reveal.
    await Promise.all([
      claimReveal(t, req.requestId),
      auditOrRefuse(t, { ...audit, ...requestId, outcome: 'success' }, now, h),
    ]);
    return {
      record: {
        id: row.id,
        type: row.type,
        dataKeyId: row.data_key_id,
        sealed: row.sealed.toString('base64'),
        contextEnc: row.enc?.toString('base64') ?? null,
      },
      wrappedDataKey: wrapped.toString('base64'),
      session: sessionMaterial(caller),
    };
  });
  // A decoy alerts after the reply.
  if (decoyHits.size > 0) {
    const { userId, sessionId } = caller;
    decoys.raise([{ recordId: row.id, userId, sessionId, via: 'reveal', origin: req.origin }]);
  }
  return reply;
}

/** issue 9 item 4d (see reveal-delivery.ts). */
/** Inside the reveal's transaction: claim `requestId` as released, or refuse an abandoned one. */
export async function claimReveal(tx: postgres.TransactionSql, requestId: string | undefined): Promise<void> {
  if (requestId === undefined) return;
  const [claimed] = await tx`INSERT INTO reveal_requests (request_id, state) VALUES (${requestId}, 'released')
    ON CONFLICT (request_id) DO NOTHING RETURNING request_id`;
  if (!claimed) throw new AdminError('conflict', 'this reveal request was already answered or given up');
}

export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
}
