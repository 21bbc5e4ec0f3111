// Private nats-server instances for `coffer dev` and for tests: each gets its own temp dir (or the
// dir it is given), config, random port and JetStream store, so runs never share state with each
// other or with a developer's server.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, reachable } from './ports.ts';

export interface NatsServerOptions {
  /** Extra config text appended after the generated listen/jetstream/include lines. */
  config?: string;
  /** Absolute path of a config file to include (e.g. deploy/nats/permissions.conf). */
  include?: string;
  /** Extra environment for the server, e.g. the passwords that `$VAR` references resolve to. */
  env?: Record<string, string>;
  /** Enable JetStream with a store inside the temp dir. Default true. */
  jetstream?: boolean;
  /** Keep the temp dir (config, store, log) after stop() for post-mortem debugging. */
  keepDir?: boolean;
  /** Use this directory instead of a temp dir, and keep it: `pnpm dev` persists its stream here. */
  dir?: string;
}

export interface NatsServer {
  url: string;
  port: number;
  /** JetStream store dir; survives restart(), removed by stop() unless keepDir. */
  storeDir: string;
  /** Temp dir holding nats.conf, nats.log and the store. */
  dir: string;
  logFile: string;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

// Children still running when the test process exits are killed here, and their temp dirs
// removed; 'exit' handlers must be synchronous, so this is a plain SIGKILL with no waiting.
const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

function findBinary(): string {
  const candidates = ['/usr/sbin/nats-server'];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir) candidates.push(path.join(dir, 'nats-server'));
  }
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not there or not executable; try the next one
    }
  }
  throw new Error('nats-server not found: neither /usr/sbin/nats-server nor nats-server on PATH is executable');
}

async function logTail(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.split('\n').slice(-15).join('\n');
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Where one server keeps its files: all inside `dir`. */
interface Layout {
  readonly dir: string;
  readonly storeDir: string;
  readonly configFile: string;
  readonly logFile: string;
}

/**
 * Write the config on a port just found free, and return that port. The port is picked by binding
 * port 0 and letting go: another test may take it before this server binds it, so the config is
 * written again for each attempt.
 */
async function writeConfig(layout: Layout, opts: NatsServerOptions): Promise<number> {
  const port = await freePort();
  const lines = [`listen: "127.0.0.1:${port}"`];
  if (opts.jetstream ?? true) lines.push(`jetstream { store_dir: ${JSON.stringify(layout.storeDir)} }`);
  // nats-server joins include paths onto the including file's directory, so an absolute path
  // would not work: include it by its path relative to the temp dir instead.
  if (opts.include) lines.push(`include ${JSON.stringify(path.relative(layout.dir, opts.include))}`);
  if (opts.config) lines.push(opts.config);
  await writeFile(layout.configFile, `${lines.join('\n')}\n`);
  return port;
}

async function halt(proc: ChildProcess | undefined): Promise<void> {
  if (!proc) return;
  proc.kill('SIGTERM');
  if (!(await waitForExit(proc, STOP_TIMEOUT_MS))) {
    proc.kill('SIGKILL');
    await waitForExit(proc, STOP_TIMEOUT_MS);
  }
  live.delete(proc);
}

/** Spawn nats-server on its config; it is ready once it listens on `port`, else it is stopped and this throws. */
async function launch(binary: string, layout: Layout, port: number, env: NatsServerOptions['env']) {
  const log = await open(layout.logFile, 'a');
  let proc: ChildProcess;
  try {
    proc = spawn(binary, ['-c', layout.configFile], {
      env: { ...process.env, ...env },
      stdio: ['ignore', log.fd, log.fd],
    });
  } finally {
    // The child holds its own copy of the descriptor.
    await log.close();
  }
  live.add(proc);
  proc.once('exit', () => live.delete(proc));
  let spawnError: Error | undefined;
  proc.once('error', (err) => {
    spawnError = err;
  });

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`nats-server failed to spawn: ${spawnError.message}`);
    if (proc.exitCode !== null || proc.signalCode !== null) {
      throw new Error(`nats-server exited during start-up:\n${await logTail(layout.logFile)}`);
    }
    // Ready only when this process says it listens: a connect alone could reach another test's
    // server that took the port first.
    const text = await readFile(layout.logFile, 'utf8').catch(() => '');
    if (text.includes(`Listening for client connections on 127.0.0.1:${port}`) && (await reachable('127.0.0.1', port)))
      return proc;
    await new Promise((r) => setTimeout(r, 50));
  }
  await halt(proc);
  throw new Error(
    `nats-server did not listen on ${port} within ${START_TIMEOUT_MS} ms:\n${await logTail(layout.logFile)}`,
  );
}

/** Launch on a free port, and on another one (up to five tries) when another process took it first. */
async function launchOnFreePort(binary: string, layout: Layout, opts: NatsServerOptions) {
  for (let attempt = 1; ; attempt++) {
    const port = await writeConfig(layout, opts);
    try {
      return { port, child: await launch(binary, layout, port, opts.env) };
    } catch (err) {
      const taken = /address already in use/.test(await readFile(layout.logFile, 'utf8').catch(() => ''));
      if (!taken || attempt >= 5) throw err;
      await writeFile(layout.logFile, '');
    }
  }
}

export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const binary = findBinary();
  installExitHook();

  const keep = opts.keepDir || opts.dir !== undefined;
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'coffer-nats-')));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (!keep) tempDirs.add(dir);
  const layout: Layout = {
    dir,
    storeDir: path.join(dir, 'jetstream'),
    configFile: path.join(dir, 'nats.conf'),
    logFile: path.join(dir, 'nats.log'),
  };
  const removeDir = async (): Promise<void> => {
    if (keep) return;
    await rm(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  };

  let started: { port: number; child: ChildProcess | undefined };
  try {
    started = await launchOnFreePort(binary, layout, opts);
  } catch (err) {
    await removeDir();
    throw err;
  }
  const { port } = started;
  let stopped = false;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: layout.storeDir,
    dir,
    logFile: layout.logFile,
    async stop() {
      if (stopped) return;
      stopped = true;
      const child = started.child;
      started.child = undefined;
      await halt(child);
      await removeDir();
    },
    async restart() {
      if (stopped) throw new Error('restart() after stop(): the temp dir and store are gone');
      const child = started.child;
      started.child = undefined;
      await halt(child);
      started.child = await launch(binary, layout, port, opts.env);
    },
  };
}
