/**
 * `coffer audit verify`: walk the audit log's hash chain straight from the database (any role
 * that may SELECT audit_events, e.g. a read replica's) and name the first broken event.
 * Exit status 0 when intact, 1 when broken.
 */
import { asUrl, readConfig, setting } from '@coffer/config';
import { verifyAuditChain } from '@coffer/vault';
import postgres from 'postgres';

export async function auditCommand(argv: string[]): Promise<void> {
  if (argv[0] !== 'verify') throw new Error('usage: coffer audit verify');
  const { url } = readConfig({
    url: setting(
      'DATABASE_URL',
      'PostgreSQL URL of a role that may read audit_events',
      asUrl(['postgres:', 'postgresql:']),
    ),
  });
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const verdict = await verifyAuditChain(sql);
    if (verdict.ok) {
      process.stdout.write(`audit log intact: ${verdict.events} events, head ${verdict.head}\n`);
    } else {
      process.stdout.write(
        `audit log BROKEN at event ${verdict.brokenAt} (${verdict.events} events before it verify)\n`,
      );
      process.exitCode = 1;
    }
  } finally {
    await sql.end();
  }
}
