/** `coffer migrate`: apply the vault's SQL migrations as the owner role (not coffer_vault). */
import { asUrl, readConfig, setting } from '@coffer/config';
import { migrate } from '@coffer/vault';
import postgres from 'postgres';

export async function migrateCommand(): Promise<void> {
  const { url } = readConfig({
    url: setting(
      'COFFER_MIGRATION_DATABASE_URL',
      'PostgreSQL URL of the schema owner role (not the runtime role)',
      asUrl(['postgres:', 'postgresql:']),
    ),
  });
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const applied = await migrate(sql);
    process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'already up to date\n');
  } finally {
    await sql.end();
  }
}
