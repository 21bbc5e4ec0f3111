/**
 * The ingest process: configuration, bus, the data key, then HTTP. Public and write-only: it
 * refuses to start with a database URL in its environment, since it must never hold one.
 */

import { readFileSync } from 'node:fs';
import { connectService, idempotencyNames, natsSettings, stopOnSignals } from '@coffer/bus';
import { asPort, asPositiveInt, asString, asTrustProxy, loadOrRefuse, setting } from '@coffer/config';
import { PublicKey } from '@coffer/crypto';
import { buildIngest } from './app.ts';
import { ingestLogger } from './log.ts';
import { SharedIdempotency } from './shared-idempotency.ts';

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
    // Set on every replica of a scaled-out ingest (the same file): Idempotency-Key then holds
    // across replicas. Unset: each process remembers only its own keys.
    idempotencySecret: setting(
      'COFFER_IDEMPOTENCY_SECRET_FILE',
      'file with the secret (32+ bytes) all ingest replicas share for Idempotency-Key',
      (path) => readFileSync(path),
      null as Buffer | null,
    ),
  },
  () => {
    if (process.env.DATABASE_URL) throw new Error('DATABASE_URL is set, but ingest must hold no database credential');
  },
);

const bus = await connectService(config, 'ingest', { log: (event) => log.info(event) });
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
await app.listen({ host: config.host, port: config.port });
stopOnSignals(bus, log, () => app.close());
