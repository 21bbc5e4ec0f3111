/** A small harness: run an operation for a fixed time after a warm-up, report ops/s. */
import { cpus } from 'node:os';

export interface Result {
  readonly name: string;
  readonly opsPerSecond: number;
  readonly microsPerOp: number;
  readonly iterations: number;
}

export async function measure(name: string, op: () => unknown, seconds = 2): Promise<Result> {
  const warmUntil = performance.now() + 200;
  while (performance.now() < warmUntil) await op();
  let iterations = 0;
  const start = performance.now();
  const stop = start + seconds * 1000;
  while (performance.now() < stop) {
    await op();
    iterations++;
  }
  const elapsed = (performance.now() - start) / 1000;
  return { name, opsPerSecond: iterations / elapsed, microsPerOp: (elapsed * 1e6) / iterations, iterations };
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
}

export function table(results: readonly Result[]): string {
  const rows = results.map(
    (r) => `| ${r.name} | ${Math.round(r.opsPerSecond).toLocaleString('en-US')} | ${r.microsPerOp.toFixed(1)} |`,
  );
  return ['| operation | ops/s | µs/op |', '|---|---:|---:|', ...rows].join('\n');
}

/**
 * What a benchmark starts, stopped in reverse order on success, failure or `boundMs` (then the
 * process exits 1). `onCleanup` registers a stop, `forget` drops one, `cleanUp` runs them, `done`
 * clears the bound.
 */
export function benchLifecycle(name: string, boundMs: number) {
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const cleanups: { name: string; run: () => unknown }[] = [];
  const onCleanup = (what: string, run: () => unknown) => cleanups.push({ name: what, run });
  async function cleanUp(): Promise<void> {
    for (let c = cleanups.pop(); c; c = cleanups.pop()) {
      try {
        await c.run();
      } catch (err) {
        progress(`cleanup: ${c.name} failed: ${(err as Error).message}`);
      }
    }
  }
  const watchdog = setTimeout(() => {
    progress(`${name}: still running after ${boundMs / 1000} s; stopping`);
    void cleanUp().finally(() => process.exit(1));
  }, boundMs);
  watchdog.unref();
  /** Drop a registered stop that already ran (say, a stack closed early). */
  const forget = (what: string) => {
    const i = cleanups.findIndex((c) => c.name === what);
    if (i >= 0) cleanups.splice(i, 1);
  };
  return { onCleanup, forget, cleanUp, done: () => clearTimeout(watchdog) };
}
