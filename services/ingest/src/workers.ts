/**
 * More than one core: with COFFER_INGEST_WORKERS > 1 the ingest process forks that many workers
 * (node:cluster), each a whole ingest — its own bus connection, data key, record contexts and
 * group commit — sharing the listening port. Rate limits and the Idempotency-Key memory are per
 * worker, as they are per replica (docs/operations.md). A worker that dies is replaced; SIGTERM or
 * SIGINT stops them all.
 */
import cluster from 'node:cluster';

/** Runs `work` in this process when `workers` is 1 or this is a worker; else forks and supervises. */
export async function runWorkers(
  workers: number,
  log: { info(o: object, msg: string): void; error(o: object, msg: string): void },
  work: () => Promise<void>,
): Promise<void> {
  if (workers <= 1 || cluster.isWorker) return work();
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    log.error({ pid: worker.process.pid, code, signal }, 'ingest worker exited; starting another');
    cluster.fork();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopping = true;
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
      cluster.once('exit', () => {
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      });
      setTimeout(() => process.exit(0), 10_000).unref();
    });
  }
  log.info({ workers }, 'ingest workers started');
}
