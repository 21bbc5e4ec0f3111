/**
 * The admin process: configuration, bus, then HTTP. It has no database credential and refuses to
 * start with one in its environment; every read and write goes to the vault over the bus.
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
import { buildAdmin } from './app.ts';
import { adminLogger } from './log.ts';

const log = adminLogger();

function loadConfig() {
  try {
    if (process.env.DATABASE_URL)
      throw new Error('DATABASE_URL is set, but the admin plane must hold no database credential');
    return readConfig({
      trustRoot: setting('COFFER_TRUST_ROOT', 'the org public key, base64url', (raw) =>
        PublicKey.fromBase64url('ed25519', raw),
      ),
      dataKeyDays: setting('COFFER_DATA_KEY_DAYS', 'days per pre-generated data key', asPositiveInt, 90),
      natsUrl: setting('NATS_URL', 'NATS server URL', asUrl(['nats:', 'tls:']), 'nats://127.0.0.1:4222'),
      natsUser: setting('NATS_USER', "the admin plane's NATS user", asString, ''),
      natsPassword: setting('NATS_PASSWORD', "the admin plane's NATS password", asString, ''),
      namespace: setting('COFFER_BUS_NAMESPACE', 'bus name prefix (tests only)', asString, ''),
      signinPerMinute: setting(
        'COFFER_SIGNIN_RATE_PER_MINUTE',
        'sign-in attempts per client per minute',
        asPositiveInt,
        20,
      ),
      trustProxy: setting(
        'COFFER_TRUST_PROXY',
        'proxies trusted for the client address',
        asTrustProxy,
        false as boolean | string[],
      ),
      host: setting('HOST', 'listen address', asString, '127.0.0.1'),
      port: setting('PORT', 'listen port', asPort, 8081),
    });
  } catch (err) {
    refuseToStart('admin', err);
  }
}
const config = loadConfig();

const bus = await connectNatsBus({
  url: config.natsUrl,
  names: busNames(config.namespace),
  service: 'admin',
  user: config.natsUser || undefined,
  password: config.natsPassword || undefined,
  log: (event) => log.info(event),
});
const app = await buildAdmin({
  bus,
  log,
  trustRoot: config.trustRoot,
  dataKeyDays: config.dataKeyDays,
  signinPerMinute: config.signinPerMinute,
  trustProxy: config.trustProxy,
});
await app.listen({ host: config.host, port: config.port });

let stopping = false;
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
