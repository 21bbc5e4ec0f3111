/**
 * Plain-SQL migrations from services/vault/migrations, applied in file-name order under an
 * advisory lock, each in its own transaction, by the owner role (never by coffer_vault).
 * An applied file whose content has changed stops the run: migrations are append-only.
 *
 * The runtime role is named per installation: PostgreSQL roles are cluster-wide, so two
 * installations on one server that both used `coffer_vault` would share it, and each setting its
 * password would lock the other out. The files say `coffer_vault`; the runner puts the
 * installation's name in its place (checksums stay those of the files) and remembers it, refusing
 * a later run with another name.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type postgres from 'postgres';

export const MIGRATIONS_DIR = join(import.meta.dirname, '..', '..', 'migrations');
// Any fixed 64-bit number; it names Coffer's migration lock in pg_locks.
const MIGRATION_LOCK = 0x636f66666572; // "coffer"

export const DEFAULT_RUNTIME_ROLE = 'coffer_vault';
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A role name safe to put into SQL unquoted: lower-case letters, digits and `_`, at most 63. */
export function checkRoleName(name: string): string {
  if (!ROLE_NAME.test(name))
    throw new Error('a role name is 1-63 characters of a-z, 0-9 and _, not starting with a digit');
  return name;
}

export async function migrate(
  sql: postgres.Sql,
  dir = MIGRATIONS_DIR,
  runtimeRole = DEFAULT_RUNTIME_ROLE,
): Promise<string[]> {
  checkRoleName(runtimeRole);
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
    await conn`CREATE TABLE IF NOT EXISTS schema_settings (name text PRIMARY KEY, value text NOT NULL)`;
    // A database migrated before role names were configurable used the default.
    const role = done.size ? DEFAULT_RUNTIME_ROLE : runtimeRole;
    await conn`INSERT INTO schema_settings (name, value) VALUES ('runtime_role', ${role}) ON CONFLICT DO NOTHING`;
    const [stored] = await conn<{ value: string }[]>`SELECT value FROM schema_settings WHERE name = 'runtime_role'`;
    if (stored?.value !== runtimeRole) {
      throw new Error(
        `this database's runtime role is ${stored?.value}, not ${runtimeRole}: set COFFER_RUNTIME_ROLE to match`,
      );
    }
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
        await conn.unsafe(text.replace(/\bcoffer_vault\b/g, runtimeRole));
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
