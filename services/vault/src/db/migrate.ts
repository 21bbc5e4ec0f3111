/**
 * Plain-SQL migrations from services/vault/migrations, applied in file-name order under an
 * advisory lock, each in its own transaction, by the owner role (never by coffer_vault).
 * An applied file whose content has changed stops the run: migrations are append-only.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type postgres from 'postgres';

export const MIGRATIONS_DIR = join(import.meta.dirname, '..', '..', 'migrations');
// Any fixed 64-bit number; it names Coffer's migration lock in pg_locks.
const MIGRATION_LOCK = 0x636f66666572; // "coffer"

export async function migrate(sql: postgres.Sql, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort();
  const conn = await sql.reserve();
  const applied: string[] = [];
  try {
    await conn`SELECT pg_advisory_lock(${MIGRATION_LOCK})`;
    await conn`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
    const done = new Map((await conn`SELECT name, checksum FROM schema_migrations`).map((r) => [r.name, r.checksum]));
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8');
      const checksum = createHash('sha256').update(text).digest('hex');
      const previous = done.get(file);
      if (previous !== undefined) {
        if (previous !== checksum) throw new Error(`migration ${file} was changed after it was applied`);
        continue;
      }
      await conn.unsafe('BEGIN');
      try {
        await conn.unsafe(text);
        await conn`INSERT INTO schema_migrations (name, checksum) VALUES (${file}, ${checksum})`;
        await conn.unsafe('COMMIT');
      } catch (err) {
        await conn.unsafe('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
      applied.push(file);
    }
  } finally {
    await conn`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
    conn.release();
  }
  return applied;
}
