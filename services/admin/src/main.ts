/**
 * The admin process: configuration, bus, then HTTP. It has no database credential and refuses to
 * start with one in its environment; every read and write goes to the vault over the bus.
 */
import { busTls, connectService, natsSettings, stopOnSignals } from '@coffer/bus';
import {
  asBoolean,
  asPort,
  asPositiveInt,
  asString,
  asTrustProxy,
  loadOrRefuse,
  loadTls,
  orRefuse,
  setting,
  tlsSettings,
} from '@coffer/config';
import { PublicKey } from '@coffer/crypto';
import { serve } from '@coffer/http';
import { DEFAULT_DATA_KEY_DAYS } from '@coffer/protocol';
import { buildAdmin } from './app.ts';
import { adminLogger } from './log.ts';

const log = adminLogger();

const config = loadOrRefuse(
  'admin',
  {
    trustRoot: setting('COFFER_TRUST_ROOT', 'the org public key, base64url', (raw) =>
      PublicKey.fromBase64url('ed25519', raw),
    ),
    dataKeyDays: setting(
      'COFFER_DATA_KEY_DAYS',
      'days per pre-generated data key',
      asPositiveInt,
      DEFAULT_DATA_KEY_DAYS,
    ),
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
    acceptUnsignedVaultReplies: setting(
      'COFFER_ACCEPT_UNSIGNED_VAULT_REPLIES',
      'read vault replies without a signature (only until the vault reply key is certified)',
      asBoolean,
      false,
    ),
    revealSeconds: setting('COFFER_REVEAL_SECONDS', 'seconds a revealed value stays on screen', asPositiveInt, 30),
    // issue 15 item 2: where the highest revocation-list counter seen is kept; '' keeps it in memory.
    revocationStateFile: setting(
      'COFFER_REVOCATION_STATE_FILE',
      'state file remembering the revocation-list counter',
      asString,
      '',
    ),
    // issue 15 item 2: JetStream replicas of the REVOCATIONS bucket the admin replicas share.
    replicas: setting('COFFER_STREAM_REPLICAS', 'JetStream replicas of the shared revocation bucket', asPositiveInt, 1),
    host: setting('HOST', 'listen address', asString, '127.0.0.1'),
    port: setting('PORT', 'listen port', asPort, 8081),
    ...httpsSettings(),
    ...natsSettings('admin'),
  },
  () => {
    if (process.env.DATABASE_URL)
      throw new Error('DATABASE_URL is set, but the admin plane must hold no database credential');
  },
);

const tls = orRefuse('admin', () => ({
  bus: busTls(config),
  https: loadTls('COFFER_TLS', { cert: config.httpsCert, key: config.httpsKey, ca: config.httpsCa }),
}));
const bus = await connectService(config, 'admin', {
  log: (event) => log.info(event),
  tls: tls.bus,
  replicas: config.replicas,
});
const app = await buildAdmin({
  bus,
  log,
  trustRoot: config.trustRoot,
  dataKeyDays: config.dataKeyDays,
  signinPerMinute: config.signinPerMinute,
  trustProxy: config.trustProxy,
  revealSeconds: config.revealSeconds,
  ...(config.revocationStateFile ? { revocationStateFile: config.revocationStateFile } : {}),
  acceptUnsignedVaultReplies: config.acceptUnsignedVaultReplies,
});
if (!config.revocationStateFile) {
  log.warn('COFFER_REVOCATION_STATE_FILE is not set: a revocation-list rollback is caught only until a restart');
}
if (config.acceptUnsignedVaultReplies) {
  log.warn(
    'COFFER_ACCEPT_UNSIGNED_VAULT_REPLIES: a bus operator can rewrite unsigned vault replies; certify the vault key',
  );
}
const server = await serve(app, { host: config.host, port: config.port, tls: tls.https });

stopOnSignals(bus, log, () => server.close());

/** COFFER_TLS_*: serve HTTPS directly (no terminating proxy in front); unset serves plain HTTP. */
function httpsSettings() {
  const tls = tlsSettings('COFFER_TLS', 'admin serves HTTPS with');
  return { httpsCert: tls.cert, httpsKey: tls.key, httpsCa: tls.ca };
}
