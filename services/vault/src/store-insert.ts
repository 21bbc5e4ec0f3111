/**
 * Rows into `records` as one statement of ten column arrays (INSERT … SELECT FROM unnest(…)),
 * whatever the row count: the statement text never changes, so it is parsed and planned once per
 * connection, where a multi-row VALUES list was a new 10,000-parameter statement for every row
 * count (each kept prepared by postgres.js and by its backend). Each array is sent as one text
 * literal built here: postgres.js's own array serializer quotes and escapes every element, and its
 * bytea serializer writes hex then escapes it again; the values here need neither (uuids, ISO
 * instants, hex, known words), and anything else is quoted. Redelivered rows: ON CONFLICT (id) DO
 * NOTHING, as before.
 */
import type postgres from 'postgres';
import type { Row } from './record-parse.ts';

/** Characters an unquoted array element may hold (not NULL, whitespace, quotes, braces, commas, backslashes). */
const BARE = /^[A-Za-z0-9_.:+/=-]+$/;

/** One array element of a text literal: bare when it can be, else double-quoted and escaped. */
function element(value: string | null): string {
  if (value === null) return 'NULL';
  if (BARE.test(value) && value.toUpperCase() !== 'NULL') return value;
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A PostgreSQL array literal of `rows` mapped through `pick`. */
function array(rows: readonly Row[], pick: (row: Row) => string | null): string {
  let out = '{';
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) out += ',';
    out += element(pick(rows[i] as Row));
  }
  return `${out}}`;
}

/** The same of bytes, as hex: bare by construction, so not tested (the test was most of the cost). */
function hexArray(rows: readonly Row[], pick: (row: Row) => Buffer | null): string {
  let out = '{';
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) out += ',';
    const bytes = pick(rows[i] as Row);
    out += bytes === null ? 'NULL' : bytes.toString('hex');
  }
  return `${out}}`;
}

/** Inserts `rows` (skipping ids already stored); resolves to the number inserted. */
export function insertRows(sql: postgres.Sql | postgres.TransactionSql, rows: readonly Row[]) {
  return sql`
    INSERT INTO records
      (id, type, data_key_id, context_id, context_enc_sha256, sealed, hint, hint_source, submitted_at, expires_at)
    SELECT id, type, data_key_id, context_id, decode(enc_sha256, 'hex'), decode(sealed, 'hex'), hint, hint_source,
      submitted_at, expires_at
    FROM unnest(
      ${array(rows, (r) => r.id)}::uuid[], ${array(rows, (r) => r.type)}::text[],
      ${array(rows, (r) => r.data_key_id)}::text[], ${array(rows, (r) => r.context_id)}::uuid[],
      ${hexArray(rows, (r) => r.context_enc_sha256)}::text[], ${hexArray(rows, (r) => r.sealed)}::text[],
      ${array(rows, (r) => r.hint)}::text[], ${array(rows, (r) => r.hint_source)}::text[],
      ${array(rows, (r) => r.submitted_at)}::timestamptz[], ${array(rows, (r) => r.expires_at)}::timestamptz[]
    ) AS t (id, type, data_key_id, context_id, enc_sha256, sealed, hint, hint_source, submitted_at, expires_at)
    ON CONFLICT (id) DO NOTHING`;
}
