/**
 * The ingest process: configuration, bus, the data key, then HTTP. Public and write-only: it
 * refuses to start with a database URL in its environment, since it must never hold one.
 */
import { readFileSync } from 'node:fs';
import { busTls, connectService, idempotencyNames, natsSettings, stopOnSignals } from '@coffer/bus';
import {
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
import { buildIngest } from './app.ts';
import { ingestLogger } from './log.ts';
import { SharedIdempotency } from './shared-idempotency.ts';
import { runWorkers } from './workers.ts';

const log = ingestLogger();

const config = loadOrRefuse(
  'ingest',
  {
    trustRoot: setting('COFFER_TRUST_ROOT', 'the org public key, base64url', (raw) =>
      PublicKey.fromBase64url('ed25519', raw),
    ),
    ...natsSettings('ingest'),
    ratePerMinute: setting('COFFER_SUBMIT_RATE_PER_MINUTE', 'submissions per client per minute', asPositiveInt, 600),
    trustProxy: setting(
      'COFFER_TRUST_PROXY',
      'proxies trusted for the client address',
      asTrustProxy,
      false as boolean | string[],
    ),
    host: setting('HOST', 'listen address', asString, '127.0.0.1'),
    port: setting('PORT', 'listen port', asPort, 8080),
    workers: setting('COFFER_INGEST_WORKERS', 'ingest worker processes (one per core)', asPositiveInt, 1),
    // Set on every replica of a scaled-out ingest (the same file): Idempotency-Key then holds
    // across replicas. Unset: each process remembers only its own keys.
    idempotencySecret: setting(
      'COFFER_IDEMPOTENCY_SECRET_FILE',
      'file with the secret (32+ bytes) all ingest replicas share for Idempotency-Key',
      (path) => readFileSync(path),
      null as Buffer | null,
    ),
    ...httpsSettings(),
  },
  () => {
    if (process.env.DATABASE_URL) throw new Error('DATABASE_URL is set, but ingest must hold no database credential');
  },
);

const tls = orRefuse('ingest', () => ({
  bus: busTls(config),
  https: loadTls('COFFER_TLS', { cert: config.httpsCert, key: config.httpsKey, ca: config.httpsCa }),
}));

await runWorkers(config.workers, log, async () => {
  const bus = await connectService(config, 'ingest', { log: (event) => log.info(event), tls: tls.bus });
  const { app, keys } = await buildIngest({
    bus,
    trustRoot: config.trustRoot,
    log,
    ratePerMinute: config.ratePerMinute,
    trustProxy: config.trustProxy,
    ...(config.idempotencySecret
      ? { sharedIdempotency: new SharedIdempotency(bus, idempotencyNames(bus.names), config.idempotencySecret) }
      : {}),
  });
  await keys.start();
  const server = await serve(app, { host: config.host, port: config.port, tls: tls.https });
  stopOnSignals(bus, log, () => server.close());
});

/** COFFER_TLS_*: serve HTTPS directly (no terminating proxy in front); unset serves plain HTTP. */
function httpsSettings() {
  const tls = tlsSettings('COFFER_TLS', 'ingest serves HTTPS with');
  return { httpsCert: tls.cert, httpsKey: tls.key, httpsCa: tls.ca };
}
