/**
 * The records of an export's next page, for `export.page` (JSON) and for the binary pages of
 * `export.chunk` and `export.block` alike: one selection, then each record context's enc read
 * once per page rather than joined onto every record (an X-Wing enc is 1,120 bytes: on each of
 * 4,096 rows it was 9 MiB of hex for the vault to parse per page).
 */
import type { ExportPageInput, RecordType } from '@coffer/protocol';
import type postgres from 'postgres';
import type { OpenExport } from './export-binding.ts';

type Db = postgres.Sql | postgres.TransactionSql;

/** A record as the page encoder takes it (libs/protocol export-page.ts), straight off its row. */
export interface PageRecord extends ExportPageInput {
  readonly type: RecordType;
  /** SHA-256 of the enc the record names (migration 012), hex; '' before it. */
  readonly sha: string;
  /** Submitted at, ISO 8601 UTC with milliseconds, as PostgreSQL formats it. */
  readonly submittedAt: string;
  /** The enc the record was sealed under: null for a version-1 blob (or if none is stored). */
  contextEnc: Buffer | null;
}

/**
 * Up to `limit` records after `after` that the export may serve: its filter audited at the start,
 * and only records the vault stored before the export began (issue 9 item 4: the cap is the
 * vault's own storing time, as submitted_at is ingest's word; both are the database's now()).
 */
export async function pageRecords(
  db: Db,
  started: OpenExport,
  after: string | undefined,
  limit: number,
): Promise<PageRecord[]> {
  const f = started.filter;
  // Named as the encoder's input, so that each row is used as it is (no second object per record);
  // contextEnc is filled in below.
  const rows = await db<PageRecord[]>`
    SELECT r.id::text AS id, r.type, r.data_key_id AS "dataKeyId", r.sealed, r.context_id::text AS "contextId",
      COALESCE(encode(r.context_enc_sha256, 'hex'), '') AS sha, NULL::bytea AS "contextEnc",
      to_char(r.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "submittedAt"
    FROM records r
    WHERE (${f.type}::text IS NULL OR r.type = ${f.type})
      AND (${f.from}::timestamptz IS NULL OR r.submitted_at >= ${f.from}::timestamptz)
      AND (${f.to}::timestamptz IS NULL OR r.submitted_at < ${f.to}::timestamptz)
      AND (${after ?? null}::uuid IS NULL OR r.id > ${after ?? null}::uuid)
      AND r.stored_at <= ${started.startedAt}
    ORDER BY r.id LIMIT ${limit}`;
  const encs = await contextEncs(db, rows);
  for (const r of rows) if (r.contextId !== null) r.contextEnc = encs.get(pairKey(r.contextId, r.sha)) ?? null;
  return rows;
}

const pairKey = (contextId: string, sha: string) => `${contextId}:${sha}`;

/**
 * The enc of each (context, digest) pair the rows name, by pair: migration 012 keeps a forged enc
 * beside the genuine one under the same context id, by its SHA-256, and a record names the one it
 * was sealed under (records before it: the enc of record_contexts). Records of one pair share one
 * Buffer.
 */
async function contextEncs(db: Db, rows: readonly PageRecord[]): Promise<Map<string, Buffer>> {
  const pairs = new Map<string, { id: string; sha: string }>();
  for (const r of rows)
    if (r.contextId !== null) pairs.set(pairKey(r.contextId, r.sha), { id: r.contextId, sha: r.sha });
  if (!pairs.size) return new Map();
  const ids = [...pairs.values()].map((p) => p.id);
  const shas = [...pairs.values()].map((p) => p.sha);
  const found = await db<{ id: string; sha: string; enc: Buffer | null }[]>`
    SELECT p.id::text, p.sha, COALESCE(ce.enc, c.enc) AS enc
    FROM unnest(${ids}::uuid[], ${shas}::text[]) AS p(id, sha)
    LEFT JOIN record_contexts c ON c.id = p.id
    LEFT JOIN record_context_encs ce ON ce.context_id = p.id AND ce.enc_sha256 = decode(p.sha, 'hex')`;
  const out = new Map<string, Buffer>();
  for (const p of found) if (p.enc) out.set(pairKey(p.id, p.sha), p.enc);
  return out;
}
