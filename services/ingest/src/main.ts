/**
 * The ingest process: configuration, bus, the data key, then HTTP. Public and write-only: it
 * refuses to start with a database URL in its environment, since it must never hold one.
 */
import { connectNatsBus } from '@coffer/bus';
import {
  asPort,
  asPositiveInt,
  asString,
  asTrustProxy,
  asUrl,
  readConfig,
  refuseToStart,
  setting,
} from '@coffer/config';
import { PublicKey } from '@coffer/crypto';
import { busNames } from '@coffer/protocol';
import { buildIngest } from './app.ts';
import { ingestLogger } from './log.ts';

const log = ingestLogger();

function loadConfig() {
  try {
    if (process.env.DATABASE_URL) throw new Error('DATABASE_URL is set, but ingest must hold no database credential');
    return readConfig({
      trustRoot: setting('COFFER_TRUST_ROOT', 'the org public key, base64url', (raw) =>
        PublicKey.fromBase64url('ed25519', raw),
      ),
      natsUrl: setting('NATS_URL', 'NATS server URL', asUrl(['nats:', 'tls:']), 'nats://127.0.0.1:4222'),
      natsUser: setting('NATS_USER', "ingest's NATS user", asString, ''),
      natsPassword: setting('NATS_PASSWORD', "ingest's NATS password", asString, ''),
      namespace: setting('COFFER_BUS_NAMESPACE', 'bus name prefix (tests only)', asString, ''),
      ratePerMinute: setting('COFFER_SUBMIT_RATE_PER_MINUTE', 'submissions per client per minute', asPositiveInt, 600),
      trustProxy: setting(
        'COFFER_TRUST_PROXY',
        'proxies trusted for the client address',
        asTrustProxy,
        false as boolean | string[],
      ),
      host: setting('HOST', 'listen address', asString, '127.0.0.1'),
      port: setting('PORT', 'listen port', asPort, 8080),
    });
  } catch (err) {
    refuseToStart('ingest', err);
  }
}
const config = loadConfig();

const bus = await connectNatsBus({
  url: config.natsUrl,
  names: busNames(config.namespace),
  service: 'ingest',
  user: config.natsUser || undefined,
  password: config.natsPassword || undefined,
  log: (event) => log.info(event),
});
const { app, keys } = await buildIngest({
  bus,
  trustRoot: config.trustRoot,
  log,
  ratePerMinute: config.ratePerMinute,
  trustProxy: config.trustProxy,
});
await keys.start();
await app.listen({ host: config.host, port: config.port });

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
    await app.close();
    await bus.close();
    process.exit(0);
  });
}
