/** `pnpm coffer <command>`: the operator's tool. Each command lives in ./commands. */
import { auditCommand } from './commands/audit.ts';
import { devCommand } from './commands/dev.ts';
import { initCommand } from './commands/init.ts';
import { migrateCommand } from './commands/migrate.ts';
import { pkiCommand } from './commands/pki.ts';
import { recoverCommand } from './commands/recover.ts';

const usage = `usage: pnpm coffer <command>
  init --email ADDRESS [--password-file FILE] [--shares 5] [--threshold 3]
                     run the bootstrap ceremony against a running vault (over the bus)
  migrate            apply database migrations (COFFER_MIGRATION_DATABASE_URL, owner role)
  recover --email ADDRESS [--password-file FILE] [--shares-file FILE]
                     break-glass: rebuild the recovery key from k shares and make a new key-admin
  audit verify       walk the audit log's hash chain (DATABASE_URL) and name the first broken event
  pki init --dir DIR [--name NAME] [--days 3650]
                     make the offline root CA for mutual TLS (ca.crt, ca.key 0600)
  pki issue NAME --role nats-server|nats-client|pg-server|pg-client|http-server --dir DIR
           [--dns NAME]... [--ip ADDRESS]... [--days 90]
                     issue a service certificate and key signed by that CA
  pki rotate --dir DIR [--within 30] [--force]
                     re-issue (new keys) every certificate expiring within N days
  dev                run every plane on this machine (embedded mode; not for production)`;

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (argv: string[]) => Promise<void>> = {
  init: initCommand,
  migrate: () => migrateCommand(),
  dev: devCommand,
  audit: auditCommand,
  recover: recoverCommand,
  pki: pkiCommand,
};

const run = command ? commands[command] : undefined;
if (!run) {
  process.stderr.write(`${usage}\n`);
  process.exit(command ? 2 : 0);
}
try {
  await run(rest);
} catch (err) {
  process.stderr.write(`coffer ${command}: ${(err as Error).message}\n`);
  process.exit(1);
}
