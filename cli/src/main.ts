/** `pnpm coffer <command>`: the operator's tool. Each command lives in ./commands. */
import { auditCommand } from './commands/audit.ts';
import { devCommand } from './commands/dev.ts';
import { initCommand } from './commands/init.ts';
import { migrateCommand } from './commands/migrate.ts';
import { monitorCommand } from './commands/monitor.ts';
import { pkiCommand } from './commands/pki.ts';
import { recoverCommand } from './commands/recover.ts';
import { resealCommand } from './commands/reseal.ts';
import { sdkCommand } from './commands/sdk.ts';
import { suiteCommand } from './commands/suite.ts';

const usage = `usage: pnpm coffer <command>
  init --email ADDRESS [--password-file FILE|-] [--totp-file FILE|-] [--vault-key-fingerprint FP]
       [--shares 5] [--threshold 3] [--horizon-days 365] [--suite xwing|x25519]
                     run the bootstrap ceremony against a running vault (over the bus);
                     \`--password-file -\` reads the password from standard input;
                     --totp-file enrols the first key-admin's authenticator (URL to FILE, - prints);
                     --vault-key-fingerprint: the vault's "admin replies signed by" log line, checked
                     before the org key certifies that reply key; --suite: data-key suite (xwing)
  migrate            apply database migrations (COFFER_MIGRATION_DATABASE_URL, owner role;
                     COFFER_RUNTIME_ROLE names the vault's role, default coffer_vault)
  recover --email ADDRESS [--password-file FILE] [--shares-file FILE] [--totp-file FILE|-]
                     break-glass: rebuild the recovery key from k shares and make a new key-admin
                     (COFFER_TRUST_ROOT: the pinned org public key to check the recovered one against)
  reseal --admin-url URL --email ADDRESS [--password-file FILE] [--totp CODE] --key ID [--key ID]…
         [--rate 200] [--batch 200]
                     move every record of those data keys to the current key (as a key-admin,
                     through the admin plane), then destroy them; run again to resume
  suite --admin-url URL --email ADDRESS --to xwing [--password-file FILE] [--totp CODE] [--no-rotate]
                     move the org's new keys to a suite (signed org configuration; never back from
                     xwing), then rotate so the current key is in it (as a key-admin)
  audit verify [--checkpoints FILE --checkpoint-key KEY] [--expect-head HASH] [--min-events N]
                     walk the audit log's hash chain (DATABASE_URL), name the first broken event,
                     and check its head against the vault's signed checkpoints
  pki init --dir DIR [--name NAME] [--days 3650]
                     make the offline root CA for mutual TLS (ca.crt, ca.key 0600)
  pki issue NAME --role nats-server|nats-client|pg-server|pg-client|http-server --dir DIR
           [--dns NAME]... [--ip ADDRESS]... [--days 90]
                     issue a service certificate and key signed by that CA
  pki rotate --dir DIR [--within 30] [--force]
                     re-issue (new keys) every certificate expiring within N days
  dev                run every plane on this machine (embedded mode; not for production)
  sdk build --trust-root ROOT [--ingest URL] [--out DIR] [--base-url URL]
                     write the browser sealing module; print its name, SRI and <script> tag
  monitor --ingest URL --trust-root ROOT [--sdk URL --sri sha384-…] [--page URL] [--vault URL] [--once | --serve]
                     check the published key (is it the vault's current one?), the SDK file and
                     the page that loads it (Nagios / Prometheus)`;

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (argv: string[]) => Promise<void>> = {
  init: initCommand,
  migrate: () => migrateCommand(),
  dev: devCommand,
  audit: auditCommand,
  recover: recoverCommand,
  reseal: resealCommand,
  suite: suiteCommand,
  sdk: sdkCommand,
  monitor: monitorCommand,
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
