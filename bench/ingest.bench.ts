/**
 * `pnpm bench:ingest`: records per second through Coffer's ingest path (HTTP → validate → HPKE
 * seal → JetStream publish → PubAck → 202), with the vault consuming at the same time, against a
 * naive fastify → AES-256-GCM → INSERT endpoint measured in the same run with the same load; then
 * how fast the vault stores a 50,000-record backlog. Everything runs on this machine: a private
 * nats-server with the shipped permissions, fresh databases on the local PostgreSQL
 * (127.0.0.1:5432), the servers in this process and autocannon in a child process. Copy the
 * printed block into docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { resolve } from 'node:path';
import { type Bus, connectNatsBus } from '@coffer/bus';
import { type Planes, startPlanes } from '@coffer/cli';
import { PublicKey, recordBinding, seal } from '@coffer/crypto';
import { ingestLogger } from '@coffer/ingest';
import { busNames, encodeJson, newRecordId, type RecordMessage } from '@coffer/protocol';
import {
  connect,
  createTestDatabase,
  freePort,
  jetstreamManager,
  prepareRuntimeRole,
  startNatsServer,
  type TestDatabase,
} from '@coffer/testkit';
import { migrate, startVault, type Vault } from '@coffer/vault';
import pino from 'pino';
import postgres from 'postgres';
import { BASELINE_KEY_ENV, type Baseline, startBaseline } from './baseline-server.ts';
import type { LoadOptions, LoadSummary } from './load.ts';
import { machine } from './measure.ts';
import { randomPan } from './pan.ts';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const HOST = '127.0.0.1';
const CONNECTIONS = 64;
const WARMUP_SECONDS = env('BENCH_WARMUP_SECONDS', 3);
const SECONDS = env('BENCH_SECONDS', 20);
const BACKLOG = env('BENCH_BACKLOG', 50_000);
const PUBLISH_CONCURRENCY = 256;
// High enough that the per-address limit (600/min by default) never triggers under this load.
const RATE_PER_MINUTE = 100_000_000;
const BOUND_MS = 5 * 60_000;
const ROOT = resolve(import.meta.dirname, '..');
const PERMISSIONS = resolve(ROOT, 'deploy/nats/permissions.conf');
const LOAD_SCRIPT = resolve(import.meta.dirname, 'load.ts');

const progress = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

// Everything started is stopped in reverse order, on success, failure or the time bound.
const cleanups: { name: string; run: () => Promise<unknown> }[] = [];
const onCleanup = (name: string, run: () => Promise<unknown>) => cleanups.push({ name, run });
async function cleanUp(): Promise<void> {
  for (let c = cleanups.pop(); c; c = cleanups.pop()) {
    await c.run().catch((err: unknown) => progress(`cleanup: ${c?.name} failed: ${(err as Error).message}`));
  }
}
const watchdog = setTimeout(() => {
  progress(`bench:ingest: still running after ${BOUND_MS / 1000} s; stopping`);
  void cleanUp().finally(() => process.exit(1));
}, BOUND_MS);
watchdog.unref();

// CPU time of this process (the servers) and of the nats-server it started, read from /proc on
// Linux (NaN elsewhere), sampled around each measured interval.
let natsPid: number | undefined;
function findNatsServer(): number | undefined {
  const entries = (() => {
    try {
      return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
    } catch {
      return []; // not Linux
    }
  })();
  for (const entry of entries) {
    try {
      const match = /^\d+ \((.*)\) \S+ (\d+) /.exec(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (match?.[1] === 'nats-server' && Number(match[2]) === process.pid) return Number(entry);
    } catch {
      // the process went away while listing
    }
  }
  return undefined;
}
function natsCpuSeconds(): number {
  try {
    const fields = readFileSync(`/proc/${natsPid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ ticks
  } catch {
    return Number.NaN;
  }
}
interface CpuSample {
  readonly self: NodeJS.CpuUsage;
  readonly nats: number;
  readonly at: number;
}
const sampleCpu = (): CpuSample => ({ self: process.cpuUsage(), nats: natsCpuSeconds(), at: performance.now() });
/** Cores used since `from`: CPU seconds per wall second. */
function coresSince(from: CpuSample): { server: number; nats: number } {
  const to = sampleCpu();
  const wall = (to.at - from.at) / 1000;
  const self = process.cpuUsage(from.self);
  return { server: (self.user + self.system) / 1e6 / wall, nats: (to.nats - from.nats) / wall };
}

interface LoadRun {
  readonly warmup: LoadSummary;
  readonly measured: LoadSummary;
  /** Cores used by this (server) process and by nats-server over the measured run. */
  readonly cores: { server: number; nats: number };
}

/** Run bench/load.ts in its own Node process against `url`; sample this process's CPU meanwhile. */
function runLoad(url: string): Promise<LoadRun> {
  const options: LoadOptions = { url, connections: CONNECTIONS, warmupSeconds: WARMUP_SECONDS, seconds: SECONDS };
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD_SCRIPT, JSON.stringify(options)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onCleanup('load generator', async () => child.kill('SIGKILL'));
    let out = '';
    let start: CpuSample | undefined;
    let cores = { server: Number.NaN, nats: Number.NaN };
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (!start && out.includes('measuring\n')) start = sampleCpu();
      else if (start && Number.isNaN(cores.server) && out.trimEnd().endsWith('}')) cores = coresSince(start);
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const json = out.split('\n').find((line) => line.startsWith('{'));
      if (code !== 0 || !json) return reject(new Error(`load generator exited with ${code}: ${out}`));
      resolveRun({ ...(JSON.parse(json) as Omit<LoadRun, 'cores'>), cores });
    });
  });
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 25) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const describeLoad = (name: string, run: LoadRun) =>
  progress(
    `${name}: ${fmt(run.measured.ok / run.measured.seconds)} records/s, p50 ${run.measured.p50} ms, ` +
      `p99 ${run.measured.p99} ms, non-2xx ${run.measured.non2xx}, errors ${run.measured.errors}, ` +
      `status ${JSON.stringify(run.measured.statusCodes)}, CPU: servers ${run.cores.server.toFixed(2)}, ` +
      `nats-server ${run.cores.nats.toFixed(2)} cores`,
  );

try {
  // --- Infrastructure: nats-server with the shipped permissions, a fresh vault database, buses.
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
    },
  });
  onCleanup('nats-server', () => nats.stop());
  natsPid = findNatsServer();

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
  const buses = { vault: await connectAs('vault'), ingest: await connectAs('ingest'), admin: await connectAs('admin') };

  // A vault-user connection of the benchmark's own, to read the stream's depth.
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

  // Logs as in production (info level, every request), written to /dev/null instead of a terminal.
  const devNull = pino.destination({ dest: '/dev/null', sync: true });
  const logs = { vault: pino({ name: 'vault' }, devNull), ingest: ingestLogger(devNull) };

  // --- Coffer ingest, with the vault consuming the stream at the same time.
  progress('starting the planes (bootstrap ceremony)…');
  let planes: Planes | undefined = await startPlanes({
    sql,
    buses,
    logs,
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
    },
    ratePerMinute: RATE_PER_MINUTE,
  });
  onCleanup('planes', async () => planes?.close());
  const ceremony = planes.ceremony;
  if (!ceremony) throw new Error('the bootstrap ceremony did not run on a fresh database');

  progress(`Coffer ingest: ${WARMUP_SECONDS} s warm-up, ${SECONDS} s measured…`);
  const coffer = await runLoad(`${planes.ingestUrl}/v1/records`);
  describeLoad('Coffer ingest', coffer);
  // Stored behind the load while it ran: everything acknowledged must reach the table.
  const accepted = coffer.warmup.ok + coffer.measured.ok;
  const drainStart = performance.now();
  await waitFor('the stream to drain', async () => ((await streamDepth()) === 0 ? true : undefined), 60_000);
  const drainSeconds = (performance.now() - drainStart) / 1000;
  const storedDuringIngest = await countRecords();
  progress(
    `stream drained ${drainSeconds.toFixed(1)} s after the load; ${storedDuringIngest} rows for ${accepted} 202s`,
  );
  await planes.close();
  planes = undefined;

  // --- Naive baseline, its own fresh database, the same load.
  process.env[BASELINE_KEY_ENV] ??= randomBytes(32).toString('hex');
  const baselineDb: TestDatabase = await createTestDatabase();
  onCleanup('baseline database', () => baselineDb.drop());
  let baseline: Baseline | undefined = await startBaseline(baselineDb.ownerUrl, HOST, await freePort());
  onCleanup('baseline server', async () => baseline?.close());
  progress(`baseline: ${WARMUP_SECONDS} s warm-up, ${SECONDS} s measured…`);
  const naive = await runLoad(`${baseline.url}/v1/records`);
  describeLoad('baseline', naive);
  await baseline.close();
  baseline = undefined;

  // --- Vault store rate: a backlog published while no vault consumes, then one vault drains it.
  const now = new Date();
  const current = ceremony.request.dataKeys.find(
    (k) => new Date(k.bundle.notBefore) <= now && now < new Date(k.bundle.notAfter),
  )?.bundle;
  if (!current) throw new Error('no data key of the ceremony covers now');
  const dataKey = PublicKey.fromBase64url('x25519', current.publicKey);
  progress(`publishing a backlog of ${fmt(BACKLOG)} sealed records (${PUBLISH_CONCURRENCY} in flight)…`);
  let sealMs = 0;
  let next = 0;
  const publishStart = performance.now();
  const publisher = async () => {
    while (next < BACKLOG) {
      next++;
      // Built exactly as services/ingest/src/routes/submit-record.ts builds a record message.
      const pan = randomPan();
      const sealStart = performance.now();
      const id = newRecordId();
      const plaintext = Buffer.from(pan, 'utf8');
      const sealed = seal(dataKey, plaintext, recordBinding(id, 'pan', current.id));
      plaintext.fill(0);
      const message: RecordMessage = {
        v: 1,
        id,
        type: 'pan',
        keyId: current.id,
        hint: pan.slice(-4),
        submittedAt: new Date().toISOString(),
        sealed: sealed.toString('base64'),
      };
      const data = encodeJson(message);
      sealMs += performance.now() - sealStart;
      await buses.ingest.publishRecord(id, data);
    }
  };
  await Promise.all(Array.from({ length: PUBLISH_CONCURRENCY }, publisher));
  const publishSeconds = (performance.now() - publishStart) / 1000;
  const depth = await streamDepth();
  if (depth !== BACKLOG) throw new Error(`the stream holds ${depth} messages, not ${BACKLOG}`);
  progress(
    `published in ${publishSeconds.toFixed(1)} s (${fmt(BACKLOG / publishSeconds)}/s; ` +
      `seal + encode ${((sealMs * 1000) / BACKLOG).toFixed(0)} µs/record)`,
  );

  const before = await countRecords();
  const vaultBus = await connectAs('vault');
  const storeCpu = sampleCpu();
  const storeStart = performance.now();
  let storeVault: Vault | undefined = await startVault({ sql, bus: vaultBus, log: logs.vault, host: HOST, port: 0 });
  onCleanup('store vault', async () => storeVault?.close());
  await waitFor(
    'the backlog to be stored',
    async () => ((await countRecords()) >= before + BACKLOG ? true : undefined),
    120_000,
  );
  const storeSeconds = (performance.now() - storeStart) / 1000;
  const storeCores = coresSince(storeCpu);
  await storeVault.close();
  storeVault = undefined;
  const storeRate = BACKLOG / storeSeconds;
  progress(`stored ${fmt(BACKLOG)} in ${storeSeconds.toFixed(2)} s: ${fmt(storeRate)} records/s`);

  // --- Report.
  const cofferRate = coffer.measured.ok / coffer.measured.seconds;
  const naiveRate = naive.measured.ok / naive.measured.seconds;
  const ratio = cofferRate / naiveRate;
  const storeRatio = storeRate / cofferRate;
  const verdict = (ok: boolean) => (ok ? 'met' : '**missed**');
  const row = (name: string, run: LoadRun) =>
    `| ${name} | ${fmt(run.measured.ok / run.measured.seconds)} | ${run.measured.p50} | ${run.measured.p99} | ` +
    `${fmt(run.measured.non2xx)} | ${run.cores.server.toFixed(2)} | ${run.cores.nats.toFixed(2)} |`;
  const lines = [
    `Machine: ${machine()}, ${Math.round(totalmem() / 2 ** 30)} GiB.`,
    `PostgreSQL ${pgVersion?.server_version ?? '?'} on 127.0.0.1:5432 (fresh databases), ` +
      `nats-server ${natsVersion} (JetStream, file storage, shipped permissions.conf), all on this machine.`,
    '',
    `Load: autocannon 9.0.0 in its own Node process, ${CONNECTIONS} connections over loopback, ` +
      `${WARMUP_SECONDS} s warm-up then ${SECONDS} s measured per row; every request POSTs a different ` +
      'Luhn-valid 16-digit PAN as JSON. The servers run in the benchmark process; the CPU columns are CPU seconds ' +
      'per wall second of that process and of nats-server over the measured run. Everything, PostgreSQL ' +
      'included, shares the cores above.',
    '',
    '| run | records/s | p50 ms | p99 ms | non-2xx | CPU: servers | CPU: nats-server |',
    '|---|---:|---:|---:|---:|---:|---:|',
    row('Coffer ingest: validate → HPKE seal → JetStream PubAck → 202 (vault consuming)', coffer),
    row('naive baseline: fastify → AES-256-GCM → INSERT → 201 (pool of 10)', naive),
    `| vault store: ${fmt(BACKLOG)}-record backlog → INSERT … ON CONFLICT DO NOTHING → ack | ${fmt(storeRate)} ` +
      `| – | – | – | ${storeCores.server.toFixed(2)} | ${storeCores.nats.toFixed(2)} |`,
    '',
    `- Coffer ingest ran as startPlanes runs it: the vault consumed the stream in batches of 500 during the ` +
      `load (${fmt(storedDuringIngest)} rows stored for ${fmt(accepted)} 202s, warm-up included; the stream ` +
      `was empty ${drainSeconds.toFixed(1)} s after the load ended). The per-address rate limit was set to ` +
      `${fmt(RATE_PER_MINUTE)}/min so that it never triggered; its bookkeeping still ran on every request. ` +
      'Ingest and vault logged at info level, as in production, to /dev/null.',
    `- Errors (connection errors and timeouts): Coffer ${coffer.measured.errors}, baseline ${naive.measured.errors}.`,
    `- Vault store: ${fmt(BACKLOG)} records sealed to the current data key and published through ingest's bus ` +
      `(${PUBLISH_CONCURRENCY} in flight: ${fmt(BACKLOG / publishSeconds)} PubAcks/s, seal + encode ` +
      `${((sealMs * 1000) / BACKLOG).toFixed(0)} µs/record) while no vault consumed; then one vault started ` +
      `and the clock ran from startVault until the records table held ${fmt(BACKLOG)} more rows ` +
      `(${storeSeconds.toFixed(2)} s).`,
    '',
    'Targets:',
    '',
    `- Coffer ≥ 1.5× baseline records/s: ${ratio.toFixed(2)}× (${fmt(cofferRate)} vs ${fmt(naiveRate)}) — ${verdict(ratio >= 1.5)}`,
    `- Coffer p99 ≤ 50 ms: ${coffer.measured.p99} ms — ${verdict(coffer.measured.p99 <= 50)}`,
    `- vault store ≥ 3× Coffer ingest: ${storeRatio.toFixed(2)}× (${fmt(storeRate)} vs ${fmt(cofferRate)}) — ${verdict(storeRatio >= 3)}`,
  ];
  console.log(`\n${lines.join('\n')}`);
} finally {
  await cleanUp();
  clearTimeout(watchdog);
}
