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
