/**
 * The admin process: configuration, bus, then HTTP. It has no database credential and refuses to
 * start with one in its environment; every read and write goes to the vault over the bus.
 */
import { connectService, loadServingPlane, stopOnSignals } from '@coffer/bus';
import { asBoolean, asPositiveInt, asString, setting } from '@coffer/config';
import { serve } from '@coffer/http';
import { DEFAULT_DATA_KEY_DAYS } from '@coffer/protocol';
import { buildAdmin } from './app.ts';
import { adminLogger } from './log.ts';

const log = adminLogger();

const { config, tls } = loadServingPlane('admin', 8081, {
  dataKeyDays: setting('COFFER_DATA_KEY_DAYS', 'days per pre-generated data key', asPositiveInt, DEFAULT_DATA_KEY_DAYS),
  signinPerMinute: setting(
    'COFFER_SIGNIN_RATE_PER_MINUTE',
    'sign-in attempts per client per minute',
    asPositiveInt,
    20,
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
});
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
