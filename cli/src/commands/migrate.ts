/**
 * `coffer migrate`: apply the vault's SQL migrations as the owner role (not the runtime role).
 * COFFER_RUNTIME_ROLE names the role the vault runs as in this installation (default
 * coffer_vault); give each installation on a shared PostgreSQL server its own.
 */
import { asUrl, readConfig, setting } from '@coffer/config';
import { checkRoleName, DEFAULT_RUNTIME_ROLE, MIGRATIONS_DIR, migrate } from '@coffer/vault';
import postgres from 'postgres';

export async function migrateCommand(): Promise<void> {
  const { url, runtimeRole } = readConfig({
    url: setting(
      'COFFER_MIGRATION_DATABASE_URL',
      'PostgreSQL URL of the schema owner role (not the runtime role)',
      asUrl(['postgres:', 'postgresql:']),
    ),
    runtimeRole: setting(
      'COFFER_RUNTIME_ROLE',
      'the role the vault connects as, one per installation',
      checkRoleName,
      DEFAULT_RUNTIME_ROLE,
    ),
  });
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const applied = await migrate(sql, MIGRATIONS_DIR, runtimeRole);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'already up to date\n');
  } finally {
    await sql.end();
  }
}
