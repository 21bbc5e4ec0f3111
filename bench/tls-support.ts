/**
 * Helpers for bench/tls.bench.ts: a throw-away PKI made by the same code as `coffer pki`, the two
 * private nats-servers (passwords, and mutual TLS as deploy/nats/nats-mtls.conf sets it up), the
 * planes as processes, and the load generator (bench/load.ts) in its own process with the CPU
 * of the watched process trees counted from /proc over the measured part.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { caFiles, createRootCa, issueLeaf, type LeafRequest, leafFiles, writeCa, writeLeaf } from '@coffer/cli';
import { type NatsServer, startNatsServer } from '@coffer/testkit';
import type { LoadOptions, LoadSummary } from './load.ts';
import { procEntries, tree, cpuSeconds as treeCpuSeconds } from './proc.ts';

export const ROOT = path.resolve(import.meta.dirname, '..');
const PERMISSIONS = path.resolve(ROOT, 'deploy/nats/permissions.conf');
const LOAD_SCRIPT = path.resolve(import.meta.dirname, 'load.ts');
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Pki {
  readonly ca: string;
  issue(request: Omit<LeafRequest, 'days'>): Promise<{ cert: string; key: string }>;
  remove(): Promise<void>;
}

/** A root CA and leaves in a temporary directory, valid for a day: nothing outlives the run. */
export async function throwAwayPki(): Promise<Pki> {
  const base = await mkdtemp(path.join(os.tmpdir(), 'coffer-bench-pki-'));
  const dir = path.join(base, 'pki');
  const ca = await createRootCa({ name: `Coffer bench CA ${path.basename(base)}`, days: 1 });
  await writeCa(dir, ca);
  return {
    ca: caFiles(dir).cert,
    async issue(request) {
      const full: LeafRequest = { days: 1, ...request };
      await writeLeaf(dir, full, await issueLeaf(ca, full));
      const f = leafFiles(dir, request.name);
      return { cert: f.cert, key: f.key };
    },
    remove: () => rm(base, { recursive: true, force: true }),
  };
}

export interface BenchNats {
  readonly server: NatsServer;
  /** The nats-server process (for CPU accounting). */
  readonly pid: number | undefined;
}

/** nats-server with the shipped permissions and a password per plane. */
export async function passwordNats(passwords: Record<'ingest' | 'vault' | 'admin', string>): Promise<BenchNats> {
  const server = await startNatsServer({
    include: PERMISSIONS,
    env: {
      NATS_INGEST_PASSWORD: passwords.ingest,
      NATS_VAULT_PASSWORD: passwords.vault,
      NATS_ADMIN_PASSWORD: passwords.admin,
      NATS_SIEM_PASSWORD: password(),
    },
  });
  return { server, pid: natsPid(server) };
}

/**
 * nats-server with the shipped permissions and nats-mtls.conf's tls block: a client certificate
 * from the CA is required and its DNS name is the user (verify_and_map); no password exists.
 */
export async function mutualTlsNats(server: { cert: string; key: string }, ca: string): Promise<BenchNats> {
  const nats = await startNatsServer({
    include: PERMISSIONS,
    config: [
      'tls {',
      `  cert_file: ${JSON.stringify(server.cert)}`,
      `  key_file: ${JSON.stringify(server.key)}`,
      `  ca_file: ${JSON.stringify(ca)}`,
      '  verify_and_map: true',
      '  timeout: 2',
      '}',
    ].join('\n'),
    env: { NATS_INGEST_PASSWORD: '""', NATS_VAULT_PASSWORD: '""', NATS_ADMIN_PASSWORD: '""', NATS_SIEM_PASSWORD: '""' },
  });
  return { server: nats, pid: natsPid(nats) };
}

export const password = () => `p${randomBytes(24).toString('hex')}`;

// --- /proc (bench/proc.ts): the nats-server's pid, and CPU seconds of a process tree (NaN with no pid).
function natsPid(server: NatsServer): number | undefined {
  const conf = path.join(server.dir, 'nats.conf');
  return procEntries()
    .map(Number)
    .find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(conf);
      } catch {
        return false;
      }
    });
}
function cpuSeconds(pid: number | undefined): number {
  return pid ? treeCpuSeconds(tree(pid)) : Number.NaN;
}

export interface LoadRun {
  readonly warmup: LoadSummary;
  readonly measured: LoadSummary;
  /** Cores used by each watched process tree over the measured run. */
  readonly cores: Record<string, number>;
}

/** Run bench/load.ts in its own Node process, counting the CPU of the watched process trees. */
export function runLoad(
  options: LoadOptions,
  watched: Record<string, number | undefined>,
  onChild: (child: ChildProcess) => void,
): Promise<LoadRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', LOAD_SCRIPT, JSON.stringify(options)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onChild(child);
    let out = '';
    let start: { cpu: Record<string, number>; at: number } | undefined;
    const cores: Record<string, number> = {};
    const cpuNow = () => Object.fromEntries(Object.entries(watched).map(([n, pid]) => [n, cpuSeconds(pid)]));
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
      if (!start && out.includes('measuring\n')) {
        start = { cpu: cpuNow(), at: performance.now() };
      } else if (start && Object.keys(cores).length === 0 && out.trimEnd().endsWith('}')) {
        const wall = (performance.now() - start.at) / 1000;
        for (const [name, cpu] of Object.entries(cpuNow())) cores[name] = (cpu - (start.cpu[name] ?? 0)) / wall;
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const json = out.split('\n').find((line) => line.startsWith('{'));
      if (code !== 0 || !json) return reject(new Error(`load generator exited with ${code}: ${out}`));
      resolveRun({ ...(JSON.parse(json) as Omit<LoadRun, 'cores'>), cores });
    });
  });
}

/** Start a plane's main.ts as its own process, as production runs it (from source, via tsx). */
export function startPlane(plane: 'vault' | 'ingest', environment: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.resolve(ROOT, `services/${plane}/src/main.ts`)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...environment },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export async function stopPlane(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
}

export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 100) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Load averages (1, 5, 15 min) as /proc/loadavg shows them. */
export const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
