/**
 * The NATS configurations deploy/ ships, run by a real nats-server on this machine: the config
 * text as shipped with only the file paths, listen addresses and route host names rewritten
 * (what must differ on one machine), and the environment its manifest gives the server process.
 * tests/deploy/nats-mtls.test.ts and tests/deploy/manifest-env.test.ts use it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { freePort, reachable } from '@coffer/testkit';
import { readCompose } from './compose.ts';
import { containersOf, render } from './kustomize.ts';
import { DEPLOY } from './manifests.ts';

export type NatsSetup = 'mtls' | 'compose' | 'k8s';
export const NATS_SETUPS: readonly NatsSetup[] = ['mtls', 'compose', 'k8s'];

/** Where each setup's config lives and where it expects its files. */
const SHIPPED: Record<
  NatsSetup,
  { conf: string; permissions: string; secrets: string; files: Record<string, string> }
> = {
  mtls: {
    conf: 'nats/nats-mtls.conf',
    permissions: 'nats/permissions.conf',
    secrets: '/etc/coffer/nats/',
    files: { cert: 'server.crt', key: 'server.key', ca: 'ca.crt' },
  },
  compose: {
    conf: 'compose/nats.conf',
    permissions: 'nats/permissions.conf',
    secrets: '/run/secrets/',
    files: { cert: 'nats-server.crt', key: 'nats-server.key', ca: 'ca.crt' },
  },
  k8s: {
    conf: 'k8s/base/bus/nats.conf',
    permissions: 'k8s/base/bus/permissions.conf',
    secrets: '/run/secrets/',
    files: { cert: 'nats-server.crt', key: 'nats-server.key', ca: 'ca.crt' },
  },
};

/**
 * The environment the manifest gives the nats-server process. nats-mtls.conf has no manifest: its
 * header documents the command line, and that is what is read.
 */
export function manifestNatsEnv(setup: NatsSetup, podName = 'nats-0'): Record<string, string> {
  if (setup === 'compose') {
    return Object.fromEntries(
      Object.entries(readCompose().services.nats?.environment ?? {}).map(([k, v]) => [k, String(v)]),
    );
  }
  if (setup === 'k8s') {
    const sts = render(path.join(DEPLOY, 'k8s/base')).find(
      (o) => o.kind === 'StatefulSet' && o.metadata.name === 'nats',
    );
    const container = sts ? containersOf(sts).find((c) => c.name === 'nats') : undefined;
    const env = (container?.env ?? []) as {
      name: string;
      value?: string;
      valueFrom?: { fieldRef?: { fieldPath: string } };
    }[];
    return Object.fromEntries(
      env.map((e) => {
        if (e.value !== undefined) return [e.name, e.value];
        if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') return [e.name, podName];
        throw new Error(`nats env ${e.name}: a source this test does not resolve`);
      }),
    );
  }
  const header = readFileSync(path.join(DEPLOY, SHIPPED.mtls.conf), 'utf8');
  const line = header.match(/^#\s+((?:NATS_\w+='[^']*'\s+)+)\\?$/m)?.[1] ?? '';
  return Object.fromEntries([...line.matchAll(/(NATS_\w+)='([^']*)'/g)].map((m) => [m[1], m[2]]));
}

export interface ShippedNats {
  readonly url: string;
  readonly port: number;
  readonly monitorPort: number | undefined;
  readonly dir: string;
  readonly log: () => Promise<string>;
  stop(): Promise<void>;
}

export interface NodeOptions {
  /** The directory of this node's files (config, certificates, store, log). */
  dir: string;
  server: { cert: string; key: string; ca: string };
  clientPort?: number;
  /** k8s only: this node's cluster port and every node's, in StatefulSet order (nats-0, -1, -2). */
  clusterPort?: number;
  routePorts?: readonly number[];
  podName?: string;
}

/** The shipped config text with this machine's paths and ports; nothing else is changed. */
export function rewriteConfig(setup: NatsSetup, text: string, dir: string, ports: Record<string, number | undefined>) {
  let out = text
    .replaceAll(SHIPPED[setup].secrets, `${dir}/secrets/`)
    .replace(/store_dir: "[^"]+"/, `store_dir: "${dir}/store"`)
    .replace(/pid_file: "[^"]+"/, `pid_file: "${dir}/nats.pid"`)
    .replace(/^listen: 0\.0\.0\.0:4222$/m, `listen: 127.0.0.1:${ports.client}`)
    .replace(/^http: [\d.]+:8222$/m, `http: 127.0.0.1:${ports.monitor}`)
    .replace(/^ {2}listen: 0\.0\.0\.0:6222$/m, `  listen: 127.0.0.1:${ports.cluster}`);
  // The StatefulSet's stable names, nats-<i>.nats-headless..., are this machine's route ports.
  out = out.replace(/nats:\/\/nats-(\d)\.nats-headless\.[a-z.-]+:6222/g, (_m, i: string) => {
    const port = ports[`route${i}`];
    if (port === undefined) throw new Error(`no port for route ${i}`);
    return `nats://127.0.0.1:${port}`;
  });
  return out;
}

export async function startShippedNats(setup: NatsSetup, options: NodeOptions): Promise<ShippedNats> {
  const { dir } = options;
  mkdirSync(path.join(dir, 'secrets'), { recursive: true });
  const names = SHIPPED[setup].files;
  copyFileSync(options.server.cert, path.join(dir, 'secrets', names.cert as string));
  copyFileSync(options.server.key, path.join(dir, 'secrets', names.key as string));
  copyFileSync(options.server.ca, path.join(dir, 'secrets', names.ca as string));
  // Includes resolve beside the including file, as in the container and on the host.
  copyFileSync(path.join(DEPLOY, SHIPPED[setup].permissions), path.join(dir, 'permissions.conf'));
  const port = options.clientPort ?? (await freePort());
  const monitor = await freePort();
  // A lone k8s node (no cluster asked for) still has its cluster block: its routes then point at
  // ports nothing listens on, as a first pod's do before its peers are scheduled.
  const cluster = options.clusterPort ?? (setup === 'k8s' ? await freePort() : undefined);
  const routes = options.routePorts ?? (setup === 'k8s' ? [cluster, await freePort(), await freePort()] : []);
  const ports: Record<string, number | undefined> = { client: port, monitor, cluster };
  for (const [i, p] of routes.entries()) ports[`route${i}`] = p;
  const text = rewriteConfig(setup, readFileSync(path.join(DEPLOY, SHIPPED[setup].conf), 'utf8'), dir, ports);
  const conf = path.join(dir, 'nats.conf');
  writeFileSync(conf, text);
  const logFile = path.join(dir, 'nats.log');
  writeFileSync(logFile, '');
  const child: ChildProcess = spawn('/usr/sbin/nats-server', ['-c', conf, '-l', logFile], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...manifestNatsEnv(setup, options.podName) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.once('exit', () => child.kill('SIGKILL'));
  const log = async () => `${output.join('')}${await readFile(logFile, 'utf8').catch(() => '')}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${setup} nats-server exited:\n${await log()}`);
    if (
      (await log()).includes(`Listening for client connections on 127.0.0.1:${port}`) &&
      (await reachable('127.0.0.1', port))
    )
      break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${setup} nats-server did not listen:\n${await log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `tls://127.0.0.1:${port}`, port, monitorPort: monitor, dir, log, stop };
}
