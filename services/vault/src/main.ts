/**
 * The vault process: configuration, database, bus, then the vault. It never runs migrations
 * (`pnpm coffer migrate`, as the owner role, does) and never holds a private key.
 */
import { connectNatsBus } from '@coffer/bus';
import { asPort, asPositiveInt, asString, asUrl, readConfig, refuseToStart, setting } from '@coffer/config';
import { busNames } from '@coffer/protocol';
import pino from 'pino';
import postgres from 'postgres';
import { startVault } from './app.ts';

const log = pino({ name: 'vault' });

function loadConfig() {
  try {
    return readConfig({
      databaseUrl: setting(
        'DATABASE_URL',
        'PostgreSQL URL of the coffer_vault role',
        asUrl(['postgres:', 'postgresql:']),
      ),
      natsUrl: setting('NATS_URL', 'NATS server URL', asUrl(['nats:', 'tls:']), 'nats://127.0.0.1:4222'),
      natsUser: setting('NATS_USER', "the vault's NATS user", asString, ''),
      natsPassword: setting('NATS_PASSWORD', "the vault's NATS password", asString, ''),
      namespace: setting('COFFER_BUS_NAMESPACE', 'bus name prefix (tests only)', asString, ''),
      replicas: setting('COFFER_STREAM_REPLICAS', 'JetStream replicas of the records stream', asPositiveInt, 1),
      host: setting('HOST', 'address of the health endpoints', asString, '127.0.0.1'),
      port: setting('PORT', 'port of the health endpoints', asPort, 8082),
      // No default: unset keeps that type forever.
      retentionPan: setting<number | null>('COFFER_RETENTION_DAYS_PAN', 'days to keep a PAN', asPositiveInt, null),
      retentionSsn: setting<number | null>('COFFER_RETENTION_DAYS_SSN', 'days to keep an SSN', asPositiveInt, null),
      retentionSecret: setting<number | null>(
        'COFFER_RETENTION_DAYS_SECRET',
        'days to keep a secret',
        asPositiveInt,
        null,
      ),
    });
  } catch (err) {
    refuseToStart('vault', err);
  }
}
const config = loadConfig();

const sql = postgres(config.databaseUrl, { max: 10, onnotice: () => {} });
const bus = await connectNatsBus({
  url: config.natsUrl,
  names: busNames(config.namespace),
  service: 'vault',
  user: config.natsUser || undefined,
  password: config.natsPassword || undefined,
  replicas: config.replicas,
  log: (event) => log.info(event),
});
const retention = { pan: config.retentionPan, ssn: config.retentionSsn, secret: config.retentionSecret };
const vault = await startVault({ sql, bus, log, host: config.host, port: config.port, retention });
log.info({ url: vault.url, retentionDays: retention }, 'vault started');

let stopping = false;
// A connection the server refuses for good (say, a changed password) will not come back: exit so
// the supervisor restarts the process, rather than run on without a bus.
void bus.closed().then(() => {
  if (stopping) return;
  log.error('the bus connection closed for good; exiting');
  process.exit(1);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    stopping = true;
    await vault.close();
    await bus.close();
    await sql.end({ timeout: 5 });
    process.exit(0);
  });
}
