/**
 * `pnpm bench:ingest [--json]`: records per second through Coffer's ingest (HTTP → validate →
 * seal under a record context → group commit → JetStream PubAck → 202) with the vault consuming,
 * against a naive fastify → AES-256-GCM → INSERT endpoint, in alternating rounds of the same run
 * with the same load generator and connections; at 1 and 2 ingest workers; then how fast the
 * vault stores a backlog. Ingest and the vault run as their own processes (`node --import tsx
 * services/<plane>/src/main.ts`, configured as in production) so that their CPU and RSS are
 * theirs; a private nats-server with the shipped permissions, fresh databases on the local
 * PostgreSQL (127.0.0.1:5432), autocannon in its own process. Prints a table (copy it into
 * docs/benchmarks.md) and, with --json, one JSON object on the last line of stdout.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import { type Bus, connectNatsBus } from '@coffer/bus';
import { startPlanes } from '@coffer/cli';
import { PublicKey } from '@coffer/crypto';
import { ingestLogger } from '@coffer/ingest';
import { busNames } from '@coffer/protocol';
import {
  connect,
  createTestDatabase,
  freePort,
  jetstreamManager,
  prepareRuntimeRole,
  startNatsServer,
  type TestDatabase,
} from '@coffer/testkit';
import { migrate } from '@coffer/vault';
import pino from 'pino';
import postgres from 'postgres';
import { publishBacklog } from './backlog.ts';
import { BASELINE_KEY_ENV, type Baseline, startBaseline } from './baseline-server.ts';
import type { LoadOptions, LoadSummary } from './load.ts';
import { benchLifecycle, machine } from './measure.ts';
import { children, cpuSeconds, privatePlusSharedMb, rssMb, tree } from './proc.ts';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const JSON_OUTPUT = process.argv.includes('--json');
const HOST = '127.0.0.1';
const CONNECTIONS = 64;
const WARMUP_SECONDS = env('BENCH_WARMUP_SECONDS', 3);
const SECONDS = env('BENCH_SECONDS', 10);
const ROUNDS = env('BENCH_ROUNDS', 2);
const WORKER_COUNTS = (process.env.BENCH_WORKERS ?? '1,2').split(',').map(Number);
const BACKLOG = env('BENCH_BACKLOG', 50_000);
const BATCH = 256; // records per backlog message, as ingest's group commit makes them under load
// High enough that the per-address limit never triggers under this load; its bookkeeping still runs.
const RATE_PER_MINUTE = 100_000_000;
/** BENCH_SUITE=xwing|x25519: the suite of the org the bench makes (its data keys, so its contexts). */
const SUITE: 'x25519' | 'xwing' = process.env.BENCH_SUITE === 'xwing' ? 'xwing' : 'x25519';
const BOUND_MS = 20 * 60_000;
const ROOT = resolve(import.meta.dirname, '..');
const PERMISSIONS = resolve(ROOT, 'deploy/nats/permissions.conf');
const LOAD_SCRIPT = resolve(import.meta.dirname, 'load.ts');

const progress = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

const { onCleanup, cleanUp, done: stopWatchdog } = benchLifecycle('bench:ingest', BOUND_MS);

/** What to watch during a run: name → the pid whose process tree it is. */
type Watched = Record<string, number | undefined>;
interface LoadRun {
  readonly warmup: LoadSummary;
  readonly measured: LoadSummary;
  /** Cores used by each watched process tree over the measured run. */
  readonly cores: Record<string, number>;
  /** Highest RSS of each watched process tree during the measured run, MB. */
  readonly rss: Record<string, number>;
  /** Highest private + shared-once memory of each tree (proc.ts privatePlusSharedMb), MB. */
  readonly mem: Record<string, number>;
  /** Highest RSS of each process of each tree, MB, by pid, and of it anonymous memory (heaps, buffers). */
  readonly perProcess: Record<string, Record<number, { rss: number; anon: number }>>;
}

/** Run bench/load.ts in its own Node process against `url`, sampling the watched processes. */
function runLoad(url: string, watched: Watched): Promise<LoadRun> {
  const options: LoadOptions = { url, connections: CONNECTIONS, warmupSeconds: WARMUP_SECONDS, seconds: SECONDS };
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD_SCRIPT, JSON.stringify(options)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onCleanup('load generator', async () => child.kill('SIGKILL'));
    let out = '';
    let start: { cpu: Record<string, number>; at: number } | undefined;
    const cores: Record<string, number> = {};
    const rss: Record<string, number> = {};
    const mem: Record<string, number> = {};
    const perProcess: LoadRun['perProcess'] = {};
    const pids = () =>
      Object.fromEntries(Object.entries(watched).map(([n, p]) => [n, n === 'bench' ? [process.pid] : tree(p)]));
    const sampleRss = setInterval(() => {
      if (!start) return;
      for (const [name, p] of Object.entries(pids())) {
        rss[name] = Math.max(rss[name] ?? 0, rssMb(p));
        mem[name] = Math.max(mem[name] ?? 0, privatePlusSharedMb(p));
        const each = perProcess[name] ?? {};
        perProcess[name] = each;
        for (const pid of p) {
          const now = { rss: rssMb([pid]), anon: anonMb(pid) };
          if (now.rss > (each[pid]?.rss ?? 0)) each[pid] = now;
        }
      }
    }, 500);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (!start && out.includes('measuring\n')) {
        start = {
          cpu: Object.fromEntries(Object.entries(pids()).map(([n, p]) => [n, cpuSeconds(p)])),
          at: performance.now(),
        };
      } else if (start && Object.keys(cores).length === 0 && out.trimEnd().endsWith('}')) {
        const wall = (performance.now() - start.at) / 1000;
        for (const [name, p] of Object.entries(pids())) cores[name] = (cpuSeconds(p) - (start.cpu[name] ?? 0)) / wall;
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      clearInterval(sampleRss);
      const json = out.split('\n').find((line) => line.startsWith('{'));
      if (code !== 0 || !json) return reject(new Error(`load generator exited with ${code}: ${out}`));
      const measured = JSON.parse(json) as Omit<LoadRun, 'cores' | 'rss' | 'mem' | 'perProcess'>;
      resolveRun({ ...measured, cores, rss, mem, perProcess });
    });
  });
}

/** Thrown by a check to end its wait at once (no progress), where other errors are retried. */
class Stalled extends Error {}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 25) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check().catch((err) => {
      if (err instanceof Stalled) throw err;
      return undefined;
    });
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * BENCH_DEPLOYED=<dir>: run the planes as deployed, `node dist/main.js` in <dir>/ingest and
 * <dir>/vault (`pnpm build`, then `pnpm deploy:service <plane> <dir>/<plane>`), not from source.
 */
const DEPLOYED = process.env.BENCH_DEPLOYED ? resolve(process.env.BENCH_DEPLOYED) : undefined;

/** Start a plane as its own process: from source via tsx, or as deployed (BENCH_DEPLOYED). */
function startPlane(plane: 'vault' | 'ingest', environment: Record<string, string>): ChildProcess {
  const entry = DEPLOYED ? ['dist/main.js'] : ['--import', 'tsx', resolve(ROOT, `services/${plane}/src/main.ts`)];
  const child = spawn(process.execPath, entry, {
    cwd: DEPLOYED ? resolve(DEPLOYED, plane) : ROOT,
    env: { PATH: process.env.PATH ?? '', ...environment },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  onCleanup(`${plane} process`, async () => stopPlane(child));
  return child;
}
async function stopPlane(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
}
const healthy = (url: string) => async () => ((await fetch(url)).status === 200 ? true : undefined);

const summary = (runs: LoadRun[]) => ({
  rps: median(runs.map((r) => r.measured.ok / r.measured.seconds)),
  p50Ms: median(runs.map((r) => r.measured.p50)),
  p99Ms: median(runs.map((r) => r.measured.p99)),
  non2xx: runs.reduce((n, r) => n + r.measured.non2xx, 0),
  errors: runs.reduce((n, r) => n + r.measured.errors, 0),
});
const coresOf = (runs: LoadRun[], name: string) => median(runs.map((r) => r.cores[name] ?? Number.NaN));
const rssOf = (runs: LoadRun[], name: string) => Math.max(...runs.map((r) => r.rss[name] ?? 0));
const memOf = (runs: LoadRun[], name: string) => Math.max(...runs.map((r) => r.mem[name] ?? 0));
/** Anonymous resident memory of a process (RssAnon: V8 heaps, buffers, malloc), MB; 0 once it is gone. */
function anonMb(pid: number): number {
  try {
    return Number(/RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}
/** Each process's highest RSS sample over the runs, in pid order (the tree's root, a cluster's primary, first). */
const perProcess = (runs: LoadRun[], name: string) => {
  const peaks = new Map<number, { rss: number; anon: number }>();
  for (const r of runs) {
    for (const [pid, m] of Object.entries(r.perProcess[name] ?? {})) {
      if (m.rss > (peaks.get(Number(pid))?.rss ?? 0)) peaks.set(Number(pid), m);
    }
  }
  return [...peaks.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, m]) => ({ rss: Math.round(m.rss), anon: Math.round(m.anon) }));
};
const perProcessOf = (runs: LoadRun[], name: string) =>
  perProcess(runs, name)
    .map((m) => `${m.rss} (anonymous ${m.anon})`)
    .join(' + ') || '–';

try {
  // --- Infrastructure: nats-server with the shipped permissions, a fresh vault database.
  const natsPasswords = {
    ingest: `p${randomBytes(24).toString('hex')}`,
    vault: `p${randomBytes(24).toString('hex')}`,
    admin: `p${randomBytes(24).toString('hex')}`,
  };
  const nats = await startNatsServer({
    include: PERMISSIONS,
    env: {
      NATS_INGEST_PASSWORD: natsPasswords.ingest,
      NATS_VAULT_PASSWORD: natsPasswords.vault,
      NATS_ADMIN_PASSWORD: natsPasswords.admin,
      NATS_SIEM_PASSWORD: `p${randomBytes(24).toString('hex')}`,
    },
  });
  onCleanup('nats-server', () => nats.stop());
  const natsPid = children(process.pid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'nats-server';
    } catch {
      return false;
    }
  });

  const db = await createTestDatabase();
  onCleanup('vault database', () => db.drop());
  const owner = postgres(db.ownerUrl, { max: 2, onnotice: () => {} });
  onCleanup('owner pool', () => owner.end({ timeout: 5 }));
  await migrate(owner);
  await prepareRuntimeRole(db);
  const sql = postgres(db.runtimeUrl, { max: 10, onnotice: () => {} });
  onCleanup('vault pool', () => sql.end({ timeout: 5 }));
  const [pgVersion] = await owner<{ server_version: string }[]>`SHOW server_version`;

  const names = busNames();
  const connectAs = async (service: 'ingest' | 'vault' | 'admin'): Promise<Bus> => {
    const bus = await connectNatsBus({
      url: nats.url,
      names,
      service,
      user: service,
      password: natsPasswords[service],
    });
    onCleanup(`${service} bus`, () => bus.close());
    return bus;
  };
  const monitor = await connect({
    servers: nats.url,
    user: 'vault',
    pass: natsPasswords.vault,
    inboxPrefix: '_INBOX_vault',
  });
  onCleanup('monitor connection', () => monitor.close());
  const jsm = await jetstreamManager(monitor);
  const natsVersion = monitor.info?.version ?? 'unknown';
  const streamDepth = async () => (await jsm.streams.info(names.stream)).state.messages;
  const countRecords = async () => Number((await owner<{ n: string }[]>`SELECT count(*) AS n FROM records`)[0]?.n);

  // --- The bootstrap ceremony, in this process; then the planes run as their own processes.
  progress('bootstrap ceremony…');
  const devNull = pino.destination({ dest: '/dev/null', sync: true });
  const buses = { vault: await connectAs('vault'), ingest: await connectAs('ingest'), admin: await connectAs('admin') };
  const planes = await startPlanes({
    sql,
    buses,
    logs: { vault: pino({ name: 'vault' }, devNull), ingest: ingestLogger(devNull) },
    host: HOST,
    ingestPort: await freePort(),
    vaultPort: 0,
    bootstrap: {
      adminEmail: 'bench-admin@coffer.localhost',
      adminPassword: 'correct-quartz-lantern-harbour-91',
      shares: 5,
      threshold: 3,
      dataKeyDays: 90,
      horizonDays: 365,
      suite: SUITE,
    },
    ratePerMinute: RATE_PER_MINUTE,
  });
  const ceremony = planes.ceremony;
  if (!ceremony) throw new Error('the bootstrap ceremony did not run on a fresh database');
  await planes.close();

  const natsEnv = (service: 'ingest' | 'vault') => ({
    NATS_URL: nats.url,
    NATS_USER: service,
    NATS_PASSWORD: natsPasswords[service],
  });
  const vaultPort = await freePort();
  const vaultEnv = { ...natsEnv('vault'), DATABASE_URL: db.runtimeUrl, PORT: String(vaultPort), HOST };
  let vault = startPlane('vault', vaultEnv);
  await waitFor('the vault', healthy(`http://${HOST}:${vaultPort}/healthz`), 60_000, 200);

  // --- The naive baseline, its own fresh database, kept up through every round.
  process.env[BASELINE_KEY_ENV] ??= randomBytes(32).toString('hex');
  const baselineDb: TestDatabase = await createTestDatabase();
  onCleanup('baseline database', () => baselineDb.drop());
  const baseline: Baseline = await startBaseline(baselineDb.ownerUrl, HOST, await freePort());
  onCleanup('baseline server', () => baseline.close());

  // --- Rounds: Coffer and the baseline alternately, at each worker count.
  const results: { workers: number; coffer: LoadRun[]; baseline: LoadRun[] }[] = [];
  let accepted = 0;
  for (const workers of WORKER_COUNTS) {
    const ingestPort = await freePort();
    const ingest = startPlane('ingest', {
      ...natsEnv('ingest'),
      COFFER_TRUST_ROOT: ceremony.trustRoot,
      COFFER_SUBMIT_RATE_PER_MINUTE: String(RATE_PER_MINUTE),
      COFFER_INGEST_WORKERS: String(workers),
      HOST,
      PORT: String(ingestPort),
    });
    await waitFor('ingest ready', healthy(`http://${HOST}:${ingestPort}/readyz`), 60_000, 200);
    const watched: Watched = { ingest: ingest.pid, vault: vault.pid, 'nats-server': natsPid, bench: process.pid };
    const round = { workers, coffer: [] as LoadRun[], baseline: [] as LoadRun[] };
    for (let r = 1; r <= ROUNDS; r++) {
      progress(`round ${r}/${ROUNDS}, ${workers} ingest worker(s): Coffer…`);
      const c = await runLoad(`http://${HOST}:${ingestPort}/v1/records`, watched);
      accepted += c.warmup.ok + c.measured.ok;
      progress(`  Coffer ${fmt(c.measured.ok / c.measured.seconds)}/s p99 ${c.measured.p99} ms; baseline…`);
      const b = await runLoad(`${baseline.url}/v1/records`, watched);
      progress(`  baseline ${fmt(b.measured.ok / b.measured.seconds)}/s p99 ${b.measured.p99} ms`);
      round.coffer.push(c);
      round.baseline.push(b);
    }
    results.push(round);
    await stopPlane(ingest);
  }
  const drainStart = performance.now();
  // A loaded machine can leave a backlog of tens of thousands of records behind the rounds. Bounded
  // twice: 10 minutes in all, and 60 s without the stream getting shorter (a vault that fails the
  // same fetch over and over, as one did when a backlog's rows overflowed an INSERT, never drains).
  let lowest = Number.POSITIVE_INFINITY;
  let progressAt = performance.now();
  await waitFor(
    'the stream to drain',
    async () => {
      const depth = await streamDepth();
      if (depth < lowest) [lowest, progressAt] = [depth, performance.now()];
      if (performance.now() - progressAt > 60_000) throw new Stalled(`the vault stopped draining at ${depth} messages`);
      return depth === 0 ? true : undefined;
    },
    600_000,
    500,
  );
  const drainSeconds = (performance.now() - drainStart) / 1000;
  const storedDuringIngest = await countRecords();
  progress(`drained ${drainSeconds.toFixed(1)} s after the last round: ${storedDuringIngest} rows, ${accepted} 202s`);

  // --- Vault store rate: a backlog of group-commit batches published while no vault consumes.
  await stopPlane(vault);
  const now = new Date();
  const current = ceremony.request.dataKeys.find(
    (k) => new Date(k.bundle.notBefore) <= now && now < new Date(k.bundle.notAfter),
  )?.bundle;
  if (!current) throw new Error('no data key of the ceremony covers now');
  const dataKey = PublicKey.fromBase64url(SUITE, current.publicKey);
  progress(`publishing a backlog of ${fmt(BACKLOG)} records in batches of ${BATCH}…`);
  const publishStart = performance.now();
  await publishBacklog(buses.ingest, { id: current.id, publicKey: dataKey }, BACKLOG, BATCH);
  const publishSeconds = (performance.now() - publishStart) / 1000;
  const before = await countRecords();
  const storeStart = performance.now();
  vault = startPlane('vault', vaultEnv);
  const vaultPid = vault.pid as number;
  const vaultCpu0 = cpuSeconds(tree(vaultPid));
  // The store clock proper starts when the vault answers its health check: starting a process
  // from source under tsx takes seconds on a loaded machine, and is not storing.
  await waitFor('the vault', healthy(`http://${HOST}:${vaultPort}/healthz`), 60_000, 50);
  const readyAt = performance.now();
  const storedAtReady = (await countRecords()) - before;
  const readyCpu = cpuSeconds(tree(vaultPid));
  let storedSoFar = -1;
  let storedProgressAt = performance.now();
  await waitFor(
    'the backlog stored',
    async () => {
      const stored = (await countRecords()) - before;
      if (stored > storedSoFar) [storedSoFar, storedProgressAt] = [stored, performance.now()];
      if (performance.now() - storedProgressAt > 60_000) throw new Stalled(`the vault stopped storing at ${stored}`);
      return stored >= BACKLOG ? true : undefined;
    },
    600_000,
    50,
  );
  const storeEnd = performance.now();
  const storeSeconds = (storeEnd - storeStart) / 1000;
  const steadySeconds = (storeEnd - readyAt) / 1000;
  const storeCores = (cpuSeconds(tree(vaultPid)) - readyCpu) / steadySeconds;
  const startupCpu = readyCpu - vaultCpu0;
  await stopPlane(vault);
  const storeRateWithStartup = BACKLOG / storeSeconds;
  const storeRate = (BACKLOG - storedAtReady) / steadySeconds;
  progress(
    `stored ${fmt(BACKLOG)} in ${storeSeconds.toFixed(2)} s from process start (${fmt(storeRateWithStartup)}/s), ` +
      `${fmt(storeRate)}/s from ready`,
  );

  // --- Report.
  const best = results.reduce((a, b) => (summary(b.coffer).rps > summary(a.coffer).rps ? b : a));
  const coffer = summary(best.coffer);
  const naive = summary(results.flatMap((r) => r.baseline));
  const ratio = coffer.rps / naive.rps;
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  const lines = [
    `Machine: ${machine()}, ${Math.round(totalmem() / 2 ** 30)} GiB. Planes ${DEPLOYED ? 'as deployed (node dist/main.js)' : 'from source (tsx)'}.`,
    `PostgreSQL ${pgVersion?.server_version ?? '?'} on 127.0.0.1:5432 (fresh databases), nats-server ${natsVersion} ` +
      '(JetStream, file storage, shipped permissions.conf), all on this machine.',
    '',
    `Load: autocannon 9.0.0 in its own Node process, ${CONNECTIONS} connections over loopback; ${ROUNDS} rounds per ` +
      `worker count, each ${WARMUP_SECONDS} s warm-up then ${SECONDS} s measured for Coffer and then for the baseline; ` +
      'every request POSTs a different Luhn-valid 16-digit PAN. Figures are medians over rounds; CPU in cores ' +
      '(CPU seconds per wall second) of each process tree; RSS the highest sample (every 0.5 s) of the summed ' +
      'VmRSS, and in brackets of private + shared-once memory (a tree of Node processes shares the node binary).',
    '',
    '| run | workers | records/s | p50 ms | p99 ms | non-2xx | CPU ingest | CPU vault | CPU nats | RSS ingest MB | RSS vault MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...results.map((r) => {
      const s = summary(r.coffer);
      return (
        `| Coffer ingest | ${r.workers} | ${fmt(s.rps)} | ${s.p50Ms} | ${s.p99Ms} | ${s.non2xx} | ` +
        `${coresOf(r.coffer, 'ingest').toFixed(2)} | ${coresOf(r.coffer, 'vault').toFixed(2)} | ` +
        `${coresOf(r.coffer, 'nats-server').toFixed(2)} | ${fmt(rssOf(r.coffer, 'ingest'))} (${fmt(memOf(r.coffer, 'ingest'))}) | ` +
        `${fmt(rssOf(r.coffer, 'vault'))} (${fmt(memOf(r.coffer, 'vault'))}) |`
      );
    }),
    `| naive baseline (in the benchmark process) | – | ${fmt(naive.rps)} | ${naive.p50Ms} | ${naive.p99Ms} | ` +
      `${naive.non2xx} | – | – | – | – | – |`,
    `| vault store: ${fmt(BACKLOG)}-record backlog in ${BATCH}-record batches | – | ${fmt(storeRate)} | – | – | – | – | ` +
      `${storeCores.toFixed(2)} | – | – | – |`,
    '',
    `- ${fmt(storedDuringIngest)} rows stored for ${fmt(accepted)} 202s (warm-ups included); the stream was empty ` +
      `${drainSeconds.toFixed(1)} s after the last round. Backlog published at ${fmt(BACKLOG / publishSeconds)} records/s; ` +
      `the store clock runs from the vault's first healthy answer to the last row (${fmt(storedAtReady)} rows were ` +
      `stored before it); from the process start, start-up included (${startupCpu.toFixed(1)} CPU s), ` +
      `${fmt(storeRateWithStartup)} records/s.`,
    ...results.map(
      (r) =>
        `- RSS per process at ${r.workers} worker(s), highest sample, MB: ingest ${perProcessOf(r.coffer, 'ingest')}; ` +
        `vault ${perProcessOf(r.coffer, 'vault')}.`,
    ),
    '',
    'Targets:',
    '',
    `- Coffer (${best.workers} worker(s)) ≥ 1.5× baseline records/s: ${ratio.toFixed(2)}× ` +
      `(${fmt(coffer.rps)} vs ${fmt(naive.rps)}) — ${verdict(ratio >= 1.5)}`,
    `- Coffer p99 ≤ 30 ms: ${coffer.p99Ms} ms — ${verdict(coffer.p99Ms <= 30)}`,
    `- vault store ≥ 5× Coffer ingest: ${(storeRate / coffer.rps).toFixed(2)}× — ${verdict(storeRate / coffer.rps >= 5)}`,
    `- RSS of each service ≤ 250 MB: ingest ${fmt(Math.max(...results.map((r) => rssOf(r.coffer, 'ingest'))))} MB, ` +
      `vault ${fmt(Math.max(...results.map((r) => rssOf(r.coffer, 'vault'))))} MB`,
  ];
  console.log(`\n${lines.join('\n')}`);
  if (JSON_OUTPUT) {
    console.log(
      JSON.stringify({
        ingest: {
          coffer: { rps: coffer.rps, p50Ms: coffer.p50Ms, p99Ms: coffer.p99Ms, workers: best.workers },
          baseline: { rps: naive.rps, p50Ms: naive.p50Ms, p99Ms: naive.p99Ms },
          ratio,
          byWorkers: results.map((r) => ({ workers: r.workers, ...summary(r.coffer) })),
        },
        store: {
          rps: storeRate,
          ratioToIngest: storeRate / coffer.rps,
          rpsWithStartup: storeRateWithStartup,
          cores: storeCores,
        },
        deployed: DEPLOYED !== undefined,
        rssMb: {
          ingest: Math.max(...results.map((r) => rssOf(r.coffer, 'ingest'))),
          vault: Math.max(...results.map((r) => rssOf(r.coffer, 'vault'))),
        },
        rssPerProcessMb: results.map((r) => ({
          workers: r.workers,
          ingest: perProcess(r.coffer, 'ingest'),
          vault: perProcess(r.coffer, 'vault'),
        })),
        privatePlusSharedMb: {
          ingest: Math.max(...results.map((r) => memOf(r.coffer, 'ingest'))),
          vault: Math.max(...results.map((r) => memOf(r.coffer, 'vault'))),
        },
      }),
    );
  }
} finally {
  await cleanUp();
  stopWatchdog();
}
