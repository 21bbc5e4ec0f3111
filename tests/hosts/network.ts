// A deployment's hosts on one machine: one network namespace per host, each joined by a veth pair
// to a bridge in a switch namespace whose nftables rules are generated from deploy/flows.yaml.
// Nothing is created in the caller's namespace, names are unique per run, and everything is
// removed after — also when the test process dies half-way (a synchronous exit hook).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { type Watched, watchChild } from '../support/child-output.ts';
import { type Flows, nftRuleset } from './flows.ts';

const run = promisify(execFile);
const SUBNET = '10.77.0';

export interface Exec {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Network {
  readonly id: string;
  readonly ruleset: string;
  ip(host: string): string;
  namespace(host: string): string;
  /** Run a command on a host and wait for it; never throws on a non-zero exit. */
  run(
    host: string,
    argv: readonly string[],
    options?: { env?: Record<string, string>; timeoutMs?: number; input?: string },
  ): Promise<Exec>;
  /** Start a long-running process on a host; stopped by destroy() at the latest. */
  start(host: string, argv: readonly string[], options?: { env?: Record<string, string>; cwd?: string }): Daemon;
  /** Whether a TCP connection from one host to another's port opens within the timeout. */
  tcpOpens(from: string, to: string, port: number, timeoutMs?: number): Promise<boolean>;
  destroy(): Promise<void>;
}

export type Daemon = Watched;

/** What the host suite needs from the machine, or the reason it cannot run. */
export async function missingCapability(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not root (network namespaces need CAP_NET_ADMIN)';
  for (const [tool, args] of [
    ['ip', ['-V']],
    ['nft', ['--version']],
    ['openssl', ['version']],
    ['psql', ['--version']],
    ['runuser', ['--version']],
    ['curl', ['--version']],
  ] as const) {
    try {
      await run(tool, [...args]);
    } catch {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}

/** Run a command with `input` on its stdin; reject with its stderr when it fails. */
function feed(argv: readonly string[], input: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${argv.join(' ')}: ${err}`))));
    // A child that exits before reading its input closes the pipe (EPIPE): its exit code says how it went.
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

export async function createNetwork(flows: Flows): Promise<Network> {
  const id = randomBytes(3).toString('hex');
  const ns = (host: string) => `coffer-${id}-${host}`;
  const sw = `coffer-${id}-switch`;
  const table = `coffer_${id}`;
  const ips = new Map(flows.hosts.map((h, i) => [h, `${SUBNET}.${10 + i}`]));
  const ip = (host: string) => {
    const a = ips.get(host);
    if (!a) throw new Error(`unknown host ${host}`);
    return a;
  };
  const namespaces = [sw, ...flows.hosts.map(ns)];
  const daemons = new Set<Daemon>();

  const removeSync = () => {
    for (const d of daemons) d.child.kill('SIGKILL');
    for (const name of namespaces) {
      try {
        const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
        for (const pid of pids) process.kill(Number(pid), 'SIGKILL');
      } catch {
        // not there (never made, or already gone)
      }
      try {
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
      rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
    }
  };
  process.once('exit', removeSync);

  // `ip -batch`: one process per namespace rather than one per command (this runs on 2 busy cores).
  const ipBatch = (namespace: string | undefined, lines: readonly string[]) =>
    feed(['ip', ...(namespace ? ['-n', namespace] : []), '-batch', '-'], `${lines.join('\n')}\n`);
  const ruleset = nftRuleset(table, flows, ip);
  try {
    await ipBatch(
      undefined,
      namespaces.map((name) => `netns add ${name}`),
    );
    const hostsFile = ['127.0.0.1 localhost', ...flows.hosts.map((h) => `${ip(h)} ${h}`), ''].join('\n');
    for (const host of flows.hosts) {
      // Host names resolve on every host: `ip netns exec` mounts /etc/netns/<name>/hosts over /etc/hosts.
      mkdirSync(`/etc/netns/${ns(host)}`, { recursive: true });
      writeFileSync(`/etc/netns/${ns(host)}/hosts`, hostsFile);
    }
    await ipBatch(sw, [
      'link add br0 type bridge',
      'link set br0 up',
      ...flows.hosts.flatMap((host, i) => [
        `link add port${i} type veth peer name eth0 netns ${ns(host)}`,
        `link set port${i} master br0 up`,
      ]),
    ]);
    await Promise.all(
      flows.hosts.map((host) =>
        ipBatch(ns(host), [`addr add ${ip(host)}/24 dev eth0`, 'link set eth0 up', 'link set lo up']),
      ),
    );
    await feed(['ip', 'netns', 'exec', sw, 'nft', '-f', '-'], ruleset);
  } catch (err) {
    removeSync();
    throw err;
  }

  const network: Network = {
    id,
    ruleset,
    ip,
    namespace: ns,
    async run(host, argv, options = {}) {
      return new Promise<Exec>((resolve) => {
        const child = spawn('ip', ['netns', 'exec', ns(host), ...argv], {
          env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...options.env },
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
        });
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
        });
        const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
        child.on('exit', (code) => {
          clearTimeout(timer);
          resolve({ code: code ?? -1, stdout, stderr });
        });
        // A command that never reads stdin (curl, openssl) may exit first: the write then fails
        // with EPIPE, which must not surface as an unhandled error; the exit code is the result.
        child.stdin.on('error', () => {});
        child.stdin.end(options.input ?? '');
      });
    },
    start(host, argv, options = {}) {
      const child = spawn('ip', ['netns', 'exec', ns(host), ...argv], {
        env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...options.env },
        ...(options.cwd ? { cwd: options.cwd } : {}),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const watched = watchChild(child);
      const daemon: Daemon = {
        ...watched,
        async stop() {
          await watched.stop();
          daemons.delete(daemon);
        },
      };
      daemons.add(daemon);
      return daemon;
    },
    async tcpOpens(from, to, port, timeoutMs = 1_500) {
      // bash's /dev/tcp: a plain connect(2), no client software that could retry or fall back.
      const r = await network.run(from, [
        'timeout',
        String(timeoutMs / 1000),
        // --norc: bash sources ~/.bashrc when its stdin is a socket (it takes that for rshd).
        'bash',
        '--norc',
        '--noprofile',
        '-c',
        `exec 3<>/dev/tcp/${to}/${port}`,
      ]);
      return r.code === 0;
    },
    async destroy() {
      await Promise.all([...daemons].map((d) => d.stop()));
      removeSync();
      process.off('exit', removeSync);
    },
  };
  return network;
}
