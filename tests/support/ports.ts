// Loopback ports for test processes. freePort's port is free only until it is let go, and test
// files run side by side: another process may bind it first. These close that gap where a test
// can, and tell a child that listens from a port someone else took.
import { readdir, readFile, readlink } from 'node:fs/promises';
import net from 'node:net';

export interface ReservedPort {
  readonly port: number;
  /** Let the port go: call right before the test's own server listens on it. */
  release(): Promise<void>;
}

/**
 * A loopback port held open until `release`: for a test that must name its port long before it
 * can listen (a WebAuthn origin is fixed when the vault starts, seconds before the console listens).
 */
export function reservePort(): Promise<ReservedPort> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref(); // a test that fails before release must not keep its process alive
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (typeof address !== 'object' || !address) return reject(new Error('no port'));
      resolve({ port: address.port, release: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}

/**
 * Whether process `pid` itself holds the listening TCP socket on 127.0.0.1:`port` (Linux /proc):
 * "something answers on the port" is not enough when another process may have bound it first.
 */
export async function listensOn(pid: number, port: number): Promise<boolean> {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const table = await readFile('/proc/net/tcp', 'utf8').catch(() => '');
  const inodes = new Set<string>();
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local && f[3] === '0A') inodes.add(f[9] as string); // 0A: LISTEN
  }
  if (inodes.size === 0) return false;
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
    if (inode && inodes.has(inode)) return true;
  }
  return false;
}
