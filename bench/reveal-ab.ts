/**
 * Reveal server time, two source trees side by side in one run: `tsx bench/reveal-ab.ts A_DIR B_DIR`
 * copies reveal-ab-worker.ts into the other tree's bench/ (removed at the end), starts one warm
 * stack per tree, and runs ROUNDS alternating batches of BATCH reveals (A B, B A, ... so that
 * neither side always goes first). Prints the p50/p99 of each side's server times, the median batch's CPU time per reveal of
 * that side's process (admin + vault + client; PostgreSQL and nats-server not counted), and the
 * load average before and after; and, after each batch, BATCH calls of the vault's reveal dispatch
 * alone (p50).
 * BENCH_DECOYS=1 gives both vaults a decoy key; BENCH_RECORD_FORMAT=2 reveals a context-sealed record.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { percentile } from './reveal-support.ts';

const [dirA, dirB] = process.argv.slice(2).map((d) => resolve(d));
if (!dirA || !dirB) throw new Error('usage: tsx bench/reveal-ab.ts A_DIR B_DIR');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const BATCH = Number(process.env.BENCH_BATCH ?? 50);

interface Side {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: AsyncIterator<string>;
  readonly times: number[];
  readonly cpuMs: number[];
  readonly handler: number[];
}

const ownWorker = join(import.meta.dirname, 'reveal-ab-worker.ts');
const copies: string[] = [];

async function start(name: string, dir: string): Promise<Side> {
  const worker = join(dir, 'bench', 'reveal-ab-worker.ts');
  if (worker !== ownWorker) {
    copyFileSync(ownWorker, worker);
    copies.push(worker);
  }
  const child = spawn('node', ['--import', 'tsx', 'bench/reveal-ab-worker.ts'], {
    cwd: dir,
    stdio: ['pipe', 'pipe', 'inherit'],
    env: process.env,
  });
  const rl: Interface = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const lines = rl[Symbol.asyncIterator]();
  const first = await lines.next();
  if (first.value !== 'ready') throw new Error(`${name} did not start: ${first.value}`);
  return { name, child, lines, times: [], cpuMs: [], handler: [] };
}

async function ask(side: Side, line: string): Promise<string> {
  side.child.stdin?.write(`${line}\n`);
  const next = await side.lines.next();
  if (next.done) throw new Error(`${side.name} exited`);
  return next.value;
}

const loadBefore = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
const a = await start('A', dirA);
const b = await start('B', dirB);
try {
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [a, b] : [b, a];
    for (const side of order) {
      const batch = JSON.parse(await ask(side, String(BATCH))) as { times: number[]; cpuMs: number };
      side.times.push(...batch.times);
      side.cpuMs.push(batch.cpuMs);
      const alone = JSON.parse(await ask(side, `handler ${BATCH}`)) as { times: number[] };
      side.handler.push(...alone.times);
    }
  }
  if (process.env.BENCH_PROFILE_DIR) {
    for (const side of [a, b]) {
      await ask(side, `profile ${join(process.env.BENCH_PROFILE_DIR, `reveal-${side.name}.cpuprofile`)}`);
      await ask(side, String(BATCH * 4));
    }
  }
} finally {
  for (const side of [a, b]) side.child.stdin?.write('quit\n');
  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  await Promise.all([a, b].map(({ child }) => exited(child) || new Promise((r) => child.once('exit', r))));
  // The copy is removed from the other tree once its worker has exited.
  for (const copy of copies) rmSync(copy, { force: true });
}
const loadAfter = loadavg()
  .map((l) => l.toFixed(2))
  .join(' ');
const f = (n: number) => n.toFixed(2);
const rows = [a, b].map((s) => ({
  side: s.name,
  dir: s === a ? dirA : dirB,
  n: s.times.length,
  p50Ms: percentile(s.times, 50),
  p99Ms: percentile(s.times, 99),
  cpuMsPerReveal: percentile(s.cpuMs, 50),
  vaultHandlerP50Ms: percentile(s.handler, 50),
}));
for (const r of rows) {
  console.log(
    `${r.side} ${r.dir}: n=${r.n} p50 ${f(r.p50Ms)} ms, p99 ${f(r.p99Ms)} ms, CPU ${f(r.cpuMsPerReveal)} ms/reveal; vault handler alone p50 ${f(r.vaultHandlerP50Ms)} ms`,
  );
}
console.log(`load average before: ${loadBefore}; after: ${loadAfter}`);
console.log(JSON.stringify({ rows, loadBefore, loadAfter }));
