/**
 * `pnpm bench:store [--json]`: how fast one vault process stores a backlog, and what it costs —
 * the vault's side of `bench:ingest` alone, quick enough to repeat. A private nats-server with the
 * shipped permissions, a fresh database on the local PostgreSQL with one data key; per round a
 * backlog of BENCH_BACKLOG records in group-commit messages of BENCH_BATCH is published while no
 * vault runs, then a vault process (`node --import tsx services/vault/src/main.ts`, or as deployed
 * with BENCH_DEPLOYED) stores it. The clock runs
 * from the vault's first healthy answer to the last row. Measured per round: records/s, cores of
 * the vault process, of its PostgreSQL backends and of nats-server, CPU µs per record of the vault
 * and of its backends (whole life less an idle vault's start-up, measured first: unlike records/s
 * this holds on a shared machine), the vault's peak RSS, and its time inside its store handler
 * since it started (its /metrics histogram). BENCH_VAULT_NODE_FLAGS
 * passes flags to the vault's node (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { connectNatsBus } from '@coffer/bus';
import { busNames } from '@coffer/protocol';
import { freePort, startNatsServer } from '@coffer/testkit';
import { createVaultDatabase, insertDataKey } from '@coffer/vault/testing';
import { publishBacklog } from './backlog.ts';
import { benchLifecycle, machine } from './measure.ts';
import { children, cpuSeconds, rssMb } from './proc.ts';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const JSON_OUTPUT = process.argv.includes('--json');
const BACKLOG = env('BENCH_BACKLOG', 50_000);
const BATCH = env('BENCH_BATCH', 256);
const ROUNDS = env('BENCH_ROUNDS', 3);
/** BENCH_DEPLOYED=<dir>: run the vault as deployed, `node dist/main.js` in <dir>/vault (`pnpm deploy:service`). */
const DEPLOYED = process.env.BENCH_DEPLOYED ? resolve(process.env.BENCH_DEPLOYED) : undefined;
const HOST = '127.0.0.1';
const ROOT = resolve(import.meta.dirname, '..');
const progress = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const { onCleanup, cleanUp, done } = benchLifecycle('bench:store', 15 * 60_000);

function startVault(environment: Record<string, string>): ChildProcess {
  const entry = DEPLOYED ? ['dist/main.js'] : ['--import', 'tsx', 'services/vault/src/main.ts'];
  const flags = (process.env.BENCH_VAULT_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...flags, ...entry], {
    cwd: DEPLOYED ? resolve(DEPLOYED, 'vault') : ROOT,
    env: { PATH: process.env.PATH ?? '', ...environment },
    // BENCH_VAULT_STDOUT=1: the vault's stdout here too (its log lines, and --trace-gc's).
    stdio: ['ignore', process.env.BENCH_VAULT_STDOUT === '1' ? 'inherit' : 'ignore', 'inherit'],
  });
  onCleanup('vault process', () => stop(child));
  return child;
}
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
}

/** Sum and count of a Prometheus histogram in the vault's /metrics text. */
async function histogram(url: string, name: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(url)).text();
  const value = (suffix: string) => Number(new RegExp(`^${name}_${suffix} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { sum: value('sum'), count: value('count') };
}

interface Round {
  rps: number;
  seconds: number;
  cores: { vault: number; postgres: number; nats: number };
  rssPeakMb: number;
  /** CPU µs per record stored: the vault process, and its PostgreSQL backends. */
  microsPerRecord: { vault: number; postgres: number };
  handlerSeconds: number;
  handlerCalls: number;
}

try {
  if (DEPLOYED && !existsSync(resolve(DEPLOYED, 'vault/dist/main.js'))) {
    throw new Error(`no ${DEPLOYED}/vault/dist/main.js: pnpm build && pnpm deploy:service vault ${DEPLOYED}/vault`);
  }
  const pw = () => `p${randomBytes(24).toString('hex')}`;
  const passwords = { ingest: pw(), vault: pw(), admin: pw() };
  const nats = await startNatsServer({
    include: resolve(ROOT, 'deploy/nats/permissions.conf'),
    env: {
      NATS_INGEST_PASSWORD: passwords.ingest,
      NATS_VAULT_PASSWORD: passwords.vault,
      NATS_ADMIN_PASSWORD: passwords.admin,
      NATS_SIEM_PASSWORD: pw(),
    },
  });
  onCleanup('nats-server', () => nats.stop());
  const natsPid = children(process.pid).find((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'nats-server';
    } catch {
      return false;
    }
  });
  const db = await createVaultDatabase();
  onCleanup('database', () => db.drop());
  const key = await insertDataKey(db.owner, new Date(Date.now() - 60_000), new Date(Date.now() + 86_400_000));
  const names = busNames();
  const connect = async (service: 'ingest' | 'vault') => {
    const bus = await connectNatsBus({ url: nats.url, names, service, user: service, password: passwords[service] });
    onCleanup(`${service} bus`, () => bus.close());
    return bus;
  };
  await (await connect('vault')).ensureRecordStream();
  const ingest = await connect('ingest');
  const count = async () => Number((await db.owner<{ n: string }[]>`SELECT count(*) AS n FROM records`)[0]?.n);
  const [dbName] = await db.owner<{ name: string }[]>`SELECT current_database() AS name`;
  /** The vault's PostgreSQL backends: every connection to this database but the bench's own. */
  const backends = async () =>
    (
      await db.owner<{ pid: number }[]>`
        SELECT pid FROM pg_stat_activity WHERE datname = ${dbName?.name ?? ''} AND usename <> current_user`
    ).map((r) => r.pid);

  /** Start a vault process and wait for its health check. */
  const launch = async () => {
    const port = await freePort();
    const vault = startVault({
      NATS_URL: nats.url,
      NATS_USER: 'vault',
      NATS_PASSWORD: passwords.vault,
      DATABASE_URL: db.runtimeUrl,
      HOST,
      PORT: String(port),
      // Passed on when set, to measure one concurrency against another.
      ...(process.env.COFFER_VAULT_STORE_CONCURRENCY
        ? { COFFER_VAULT_STORE_CONCURRENCY: process.env.COFFER_VAULT_STORE_CONCURRENCY }
        : {}),
    });
    const healthy = () =>
      fetch(`http://${HOST}:${port}/healthz`).then(
        (res) => res.ok,
        () => false,
      );
    while (!(await healthy())) {
      if (vault.exitCode !== null) throw new Error('the vault exited during start-up');
      await sleep(50);
    }
    return { vault, pid: vault.pid as number, port };
  };
  // What a vault costs with nothing to store (start-up, a second idle): taken off each round's CPU.
  const idle = await launch();
  await sleep(1000);
  const startup = { vault: cpuSeconds([idle.pid]), postgres: cpuSeconds(await backends()) };
  await stop(idle.vault);
  progress(
    `start-up CPU: vault ${startup.vault.toFixed(2)} s, its PostgreSQL backends ${startup.postgres.toFixed(2)} s`,
  );

  const rounds: Round[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    progress(`round ${r}/${ROUNDS}: publishing ${fmt(BACKLOG)} records in messages of ${BATCH}…`);
    await publishBacklog(ingest, { id: key.bundle.id, publicKey: key.key.publicKey }, BACKLOG, BATCH);
    const before = await count();
    const { vault, pid, port } = await launch();
    const at0 = performance.now();
    const rows0 = (await count()) - before;
    const pgPids = await backends();
    const cpu0 = { vault: cpuSeconds([pid]), postgres: cpuSeconds(pgPids), nats: cpuSeconds(natsPid ? [natsPid] : []) };
    let rssPeakMb = rssMb([pid]);
    let last = rows0;
    let lastAt = performance.now();
    while (last < BACKLOG) {
      await sleep(50);
      rssPeakMb = Math.max(rssPeakMb, rssMb([pid]));
      const rows = (await count()) - before;
      if (rows > last) [last, lastAt] = [rows, performance.now()];
      if (performance.now() - lastAt > 60_000) throw new Error(`the vault stopped storing at ${rows}`);
    }
    const seconds = (performance.now() - at0) / 1000;
    const pgPidsAfter = [...new Set([...pgPids, ...(await backends())])];
    const cores = {
      vault: (cpuSeconds([pid]) - cpu0.vault) / seconds,
      // A backend that appeared after the start counts from zero (its whole life was in the clock).
      postgres: (cpuSeconds(pgPidsAfter) - cpu0.postgres) / seconds,
      nats: (cpuSeconds(natsPid ? [natsPid] : []) - cpu0.nats) / seconds,
    };
    const handler1 = await histogram(`http://${HOST}:${port}/metrics`, 'coffer_vault_store_batch_seconds');
    // CPU per record over the process's whole life less an idle start-up: the store's own cost,
    // which a loaded machine stretches in time but does not change (unlike records/s).
    const microsPerRecord = {
      vault: ((cpuSeconds([pid]) - startup.vault) * 1e6) / BACKLOG,
      postgres: ((cpuSeconds(await backends()) - startup.postgres) * 1e6) / BACKLOG,
    };
    await stop(vault);
    const round: Round = {
      rps: (BACKLOG - rows0) / seconds,
      seconds,
      cores,
      rssPeakMb,
      microsPerRecord,
      handlerSeconds: handler1.sum,
      handlerCalls: handler1.count,
    };
    rounds.push(round);
    progress(
      `  ${fmt(round.rps)} records/s (${fmt(BACKLOG - rows0)} in ${seconds.toFixed(2)} s; ${fmt(rows0)} before ready); ` +
        `cores vault ${cores.vault.toFixed(2)}, postgres ${cores.postgres.toFixed(2)}, nats ${cores.nats.toFixed(2)}; ` +
        `CPU per record: vault ${round.microsPerRecord.vault.toFixed(1)} µs, postgres ${round.microsPerRecord.postgres.toFixed(1)} µs; ` +
        `RSS peak ${fmt(rssPeakMb)} MB; store handler ${round.handlerSeconds.toFixed(2)} s in ${round.handlerCalls} calls ` +
        '(since the process started)',
    );
  }
  const pick = (f: (r: Round) => number) => median(rounds.map(f));
  const result = {
    machine: machine(),
    backlog: BACKLOG,
    batch: BATCH,
    deployed: DEPLOYED !== undefined,
    rps: pick((r) => r.rps),
    cores: {
      vault: pick((r) => r.cores.vault),
      postgres: pick((r) => r.cores.postgres),
      nats: pick((r) => r.cores.nats),
    },
    microsPerRecord: {
      vault: pick((r) => r.microsPerRecord.vault),
      postgres: pick((r) => r.microsPerRecord.postgres),
    },
    rssPeakMb: Math.max(...rounds.map((r) => r.rssPeakMb)),
    rounds,
  };
  console.log(
    `${result.machine}; ${fmt(BACKLOG)}-record backlog in messages of ${BATCH}, ${ROUNDS} rounds (medians), ` +
      `vault ${DEPLOYED ? 'as deployed (node dist/main.js)' : 'from source (tsx)'}:\n` +
      `  ${fmt(result.rps)} records/s; cores: vault ${result.cores.vault.toFixed(2)}, its PostgreSQL backends ` +
      `${result.cores.postgres.toFixed(2)}, nats-server ${result.cores.nats.toFixed(2)}; vault RSS peak ` +
      `${fmt(result.rssPeakMb)} MB; CPU per record: vault ${result.microsPerRecord.vault.toFixed(1)} µs, its ` +
      `PostgreSQL backends ${result.microsPerRecord.postgres.toFixed(1)} µs`,
  );
  if (JSON_OUTPUT) console.log(JSON.stringify(result));
} finally {
  await cleanUp();
  done();
}
