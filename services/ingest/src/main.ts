/**
 * The ingest process: configuration, bus, the data key, then HTTP. Public and write-only: it
 * refuses to start with a database URL in its environment, since it must never hold one.
 */
import { readFileSync } from 'node:fs';
import { connectService, idempotencyNames, loadServingPlane, stopOnSignals } from '@coffer/bus';
import { asPositiveInt, setting } from '@coffer/config';
import { serve } from '@coffer/http';
import { buildIngest } from './app.ts';
import { ingestLogger } from './log.ts';
import { SharedIdempotency } from './shared-idempotency.ts';
import { runWorkers } from './workers.ts';

const log = ingestLogger();

const { config, tls } = loadServingPlane('ingest', 8080, {
  ratePerMinute: setting('COFFER_SUBMIT_RATE_PER_MINUTE', 'submissions per client per minute', asPositiveInt, 600),
  workers: setting('COFFER_INGEST_WORKERS', 'ingest worker processes (one per core)', asPositiveInt, 1),
  // Set on every replica of a scaled-out ingest (the same file): Idempotency-Key then holds
  // across replicas. Unset: each process remembers only its own keys.
  idempotencySecret: setting(
    'COFFER_IDEMPOTENCY_SECRET_FILE',
    'file with the secret (32+ bytes) all ingest replicas share for Idempotency-Key',
    (path) => readFileSync(path),
    null as Buffer | null,
  ),
});

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
