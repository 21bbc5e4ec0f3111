// The plaintext search: every needle, as UTF-8 and as hex of its UTF-8 bytes, over raw bytes of
// database dumps, store files and captured logs. Hex covers bytea columns and any hex-encoded copy.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type postgres from 'postgres';

export interface Haystack {
  readonly where: string;
  readonly bytes: Buffer;
}

export interface Hit {
  readonly needle: string;
  readonly form: 'utf8' | 'hex';
  readonly where: string;
}

interface Form {
  readonly needle: string;
  readonly form: Hit['form'];
  /** The searched bytes as a latin1 string: one char per byte, so string search is byte search. */
  readonly bytes: string;
}

const GRAM = 8;

/**
 * Every (needle, form, haystack) that matches. Thousands of needles over megabytes: instead of one
 * scan per needle, index the needles by their first GRAM bytes and scan each haystack once.
 */
export function findLeaks(needles: Iterable<string>, haystacks: readonly Haystack[]): Hit[] {
  const index = new Map<string, Form[]>();
  const add = (f: Form): void => {
    if (f.bytes.length < GRAM) throw new Error(`needle too short to search reliably: ${JSON.stringify(f.needle)}`);
    const key = f.bytes.slice(0, GRAM);
    index.set(key, [...(index.get(key) ?? []), f]);
  };
  for (const needle of new Set(needles)) {
    const utf8 = Buffer.from(needle, 'utf8');
    add({ needle, form: 'utf8', bytes: utf8.toString('latin1') });
    const hex = utf8.toString('hex');
    add({ needle, form: 'hex', bytes: hex });
    add({ needle, form: 'hex', bytes: hex.toUpperCase() });
  }
  const hits = new Map<string, Hit>();
  for (const hay of haystacks) {
    const text = hay.bytes.toString('latin1');
    for (let i = 0; i + GRAM <= text.length; i++) {
      const candidates = index.get(text.slice(i, i + GRAM));
      if (!candidates) continue;
      for (const f of candidates) {
        if (text.startsWith(f.bytes, i)) hits.set(`${f.needle}\0${f.form}\0${hay.where}`, { ...f, where: hay.where });
      }
    }
  }
  return [...hits.values()].map(({ needle, form, where }) => ({ needle, form, where }));
}

/** Every table in schema public, each row as PostgreSQL's text form, plus bytea columns as hex. */
export async function databaseHaystacks(sql: postgres.Sql): Promise<Haystack[]> {
  const tables = await sql<{ name: string }[]>`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`;
  const out: Haystack[] = [];
  for (const { name } of tables) {
    const rows = await sql<{ row: string }[]>`SELECT t::text AS row FROM ${sql(name)} t`;
    out.push({ where: `table ${name}`, bytes: Buffer.from(rows.map((r) => r.row).join('\n'), 'utf8') });
    const byteaColumns = await sql<{ column: string }[]>`
      SELECT column_name AS column FROM information_schema.columns
      WHERE table_schema = 'public' AND table_name = ${name} AND data_type = 'bytea'`;
    for (const { column } of byteaColumns) {
      const values = await sql<{ hex: string | null }[]>`SELECT encode(${sql(column)}, 'hex') AS hex FROM ${sql(name)}`;
      const raw = await sql<{ raw: Buffer | null }[]>`SELECT ${sql(column)} AS raw FROM ${sql(name)}`;
      out.push({ where: `table ${name}.${column} (hex)`, bytes: Buffer.from(values.map((v) => v.hex).join('\n')) });
      // The raw bytes too: a bytea holding UTF-8 plaintext matches the UTF-8 form directly.
      out.push({
        where: `table ${name}.${column} (raw)`,
        bytes: Buffer.concat(raw.map((r) => r.raw ?? Buffer.alloc(0))),
      });
    }
  }
  return out;
}

/** Every regular file under `dir`, as raw bytes. */
export async function directoryHaystacks(dir: string): Promise<Haystack[]> {
  const out: Haystack[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    // A file can vanish between listing and reading (JetStream removes emptied blocks).
    const bytes = await readFile(file).catch(() => undefined);
    if (bytes) out.push({ where: `file ${path.relative(dir, file)}`, bytes });
  }
  return out;
}

export function textHaystack(where: string, lines: readonly string[]): Haystack {
  return { where, bytes: Buffer.from(lines.join('\n'), 'utf8') };
}

/** A short description of hits for an assertion message. */
export function describeHits(hits: readonly Hit[]): string {
  const shown = hits.slice(0, 10).map((h) => `${h.form} ${JSON.stringify(h.needle)} in ${h.where}`);
  return `${hits.length} hit(s)${shown.length ? `: ${shown.join('; ')}` : ''}`;
}
