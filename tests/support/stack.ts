// One private world per test: a fresh migrated database, a private nats-server with the shipped
// permissions, per-service buses, and every service's output captured for the leak search.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type Bus, callVault, connectNatsBus, orgStatus } from '@coffer/bus';
import { type CeremonyOutput, type Planes, runCeremony, startPlanes } from '@coffer/cli';
import { PublicKey } from '@coffer/crypto';
import { buildIngest, ingestLogger } from '@coffer/ingest';
import { busNames } from '@coffer/protocol';
import { createTestDatabase, type NatsServer, prepareRuntimeRole, startNatsServer } from '@coffer/testkit';
import { migrate, startVault, type Vault, type VaultOptions } from '@coffer/vault';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
// tests/ has no pino dependency of its own; the CLI's copy is the one `pnpm dev` runs the vault with.
import pino, { type Logger } from 'pino';
import postgres from 'postgres';
import { afterAll, beforeAll } from 'vitest';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PERMISSIONS = path.join(ROOT, 'deploy/nats/permissions.conf');
export const HOST = '127.0.0.1';
export const BOOTSTRAP = {
  adminEmail: 'ka@example.com',
  adminPassword: 'correct-quartz-lantern-harbour-91',
  shares: 5,
  threshold: 3,
  dataKeyDays: 90,
  horizonDays: 365,
  // The planes' existing tests run an org made before suites; X-Wing orgs have tests of their own.
  suite: 'x25519',
} as const;
// High enough that the per-client rate limit never shapes a test's outcome.
export const RATE = 1_000_000;
/** startPlanes' options every in-process stack here shares: one host, ports the OS picks, BOOTSTRAP, RATE. */
export const PLANES_DEFAULTS = {
  host: HOST,
  ingestPort: 0,
  vaultPort: 0,
  adminPort: 0,
  bootstrap: BOOTSTRAP,
  ratePerMinute: RATE,
} as const;

export type Service = 'ingest' | 'vault' | 'admin';

/** Lines written by one service, kept in memory for the leak search. */
export class Capture {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk, _enc, done) => {
      this.lines.push(String(chunk));
      done();
    },
  });
}

export interface Infra {
  readonly owner: postgres.Sql;
  readonly runtime: postgres.Sql;
  readonly runtimeUrl: string;
  readonly nats: NatsServer;
  readonly passwords: Readonly<Record<Service, string>>;
  /** The read-only `siem` bus user's password (the audit stream's reader). */
  readonly siemPassword: string;
  /** Output per source: vault, ingest, bus events; add more (e.g. child processes) as needed. */
  readonly captures: Map<string, Capture>;
  capture(name: string): Capture;
  connectBus(service: Service): Promise<Bus>;
  /** The nats-server's pid (from its pid_file), for tests that must take it down and keep it down. */
  natsPid(): Promise<number>;
  /** The records stream and the vault consumer as the server sees them (asked as the vault user). */
  streamState(): Promise<StreamState>;
  /** A NATS connection as the vault's bus user, to see JetStream as the vault sees it. */
  natsAsVault(): Promise<NatsConnection>;
  /** The nats-server log file's lines. */
  natsLog(): Promise<string[]>;
  close(): Promise<void>;
}

export interface StreamState {
  /** Messages the stream has ever taken: one per accepted record, if nothing was published twice. */
  readonly lastSeq: number;
  readonly pending: number;
  readonly ackPending: number;
}

export async function startInfra(): Promise<Infra> {
  const cleanups: (() => Promise<unknown>)[] = [];
  try {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const owner = postgres(db.ownerUrl, { max: 2, onnotice: () => {} });
    cleanups.push(() => owner.end({ timeout: 5 }));
    await migrate(owner);
    await prepareRuntimeRole(db);
    const runtime = postgres(db.runtimeUrl, { max: 10, onnotice: () => {} });
    cleanups.push(() => runtime.end({ timeout: 5 }));

    // startNatsServer does not expose the child's pid, and stop() deletes the store; a pid_file
    // lets a test kill the server while keeping the store for restart().
    const pidDir = await mkdtemp(path.join(os.tmpdir(), 'coffer-e2e-pid-'));
    cleanups.push(() => rm(pidDir, { recursive: true, force: true }));
    const pidFile = path.join(pidDir, 'nats.pid');
    // Hex with a letter prefix: nats-server re-parses env values as config text (permissions.conf).
    const pw = (): string => `p${randomBytes(24).toString('hex')}`;
    const passwords = { ingest: pw(), vault: pw(), admin: pw() };
    const siemPassword = pw();
    const nats = await startNatsServer({
      include: PERMISSIONS,
      env: {
        NATS_INGEST_PASSWORD: passwords.ingest,
        NATS_VAULT_PASSWORD: passwords.vault,
        NATS_ADMIN_PASSWORD: passwords.admin,
        NATS_SIEM_PASSWORD: siemPassword,
      },
      config: `pid_file: ${JSON.stringify(pidFile)}`,
    });
    cleanups.push(() => nats.stop());

    const captures = new Map<string, Capture>();
    const capture = (name: string): Capture => {
      const c = captures.get(name) ?? new Capture();
      captures.set(name, c);
      return c;
    };
    const buses: Bus[] = [];
    cleanups.push(() => Promise.all(buses.map((b) => b.close().catch(() => undefined))));

    const natsAsVault = () =>
      connect({
        servers: nats.url,
        user: 'vault',
        pass: passwords.vault,
        inboxPrefix: '_INBOX_vault', // the only inbox permissions.conf lets the vault user read
        reconnect: false,
      });
    return {
      owner,
      runtime,
      runtimeUrl: db.runtimeUrl,
      nats,
      passwords,
      siemPassword,
      captures,
      capture,
      async connectBus(service) {
        const events = capture(`bus-${service}`);
        const bus = await connectNatsBus({
          url: nats.url,
          names: busNames(),
          service,
          user: service,
          password: passwords[service],
          log: (event) => events.lines.push(event),
        });
        buses.push(bus);
        return bus;
      },
      async natsPid() {
        return Number((await readFile(pidFile, 'utf8')).trim());
      },
      natsAsVault,
      async streamState() {
        const nc = await natsAsVault();
        try {
          const jsm = await jetstreamManager(nc);
          const names = busNames();
          const stream = await jsm.streams.info(names.stream);
          const consumer = await jsm.consumers.info(names.stream, names.consumer);
          return {
            lastSeq: stream.state.last_seq,
            pending: consumer.num_pending,
            ackPending: consumer.num_ack_pending,
          };
        } finally {
          await nc.close();
        }
      },
      async natsLog() {
        return (await readFile(nats.logFile, 'utf8').catch(() => '')).split('\n');
      },
      async close() {
        // Reverse order: clients before the server, connections before dropping the database.
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
      },
    };
  } catch (err) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    throw err;
  }
}

export const vaultLogger = (infra: Infra): Logger => pino({ name: 'vault' }, infra.capture('vault').stream);
export const ingestLog = (infra: Infra): Logger => ingestLogger(infra.capture('ingest').stream);

export interface Stack {
  readonly infra: Infra;
  readonly planes: Planes;
  readonly buses: Readonly<Record<Service, Bus>>;
  readonly vaultLog: Logger;
  readonly ingestLog: Logger;
  close(): Promise<void>;
}

/** A vault in this process on `infra` (its own bus user, its log captured), with `options` on top. */
export async function startVaultOn(infra: Infra, options: Partial<VaultOptions> = {}): Promise<Vault> {
  return startVault({
    sql: infra.runtime,
    bus: await infra.connectBus('vault'),
    log: vaultLogger(infra),
    host: HOST,
    port: 0,
    ...options,
  });
}

/** One stack for a describe block: started before its tests, closed after them; read `stack` inside the tests. */
export function stackPerBlock(): { readonly stack: Stack } {
  const held = {} as { stack: Stack };
  beforeAll(async () => {
    held.stack = await startStack();
  }, 60_000);
  afterAll(async () => {
    await held.stack?.close();
  }, 30_000);
  return held;
}

/** The planes in this process as `pnpm dev` starts them, over the private database and server. */
export async function startStack(): Promise<Stack> {
  const infra = await startInfra();
  try {
    const buses = {
      vault: await infra.connectBus('vault'),
      ingest: await infra.connectBus('ingest'),
      admin: await infra.connectBus('admin'),
    };
    const logs = { vault: vaultLogger(infra), ingest: ingestLog(infra) };
    const planes = await startPlanes({
      sql: infra.runtime,
      buses,
      logs,
      host: HOST,
      ingestPort: 0,
      vaultPort: 0,
      bootstrap: BOOTSTRAP,
      ratePerMinute: RATE,
    });
    return {
      infra,
      planes,
      buses,
      vaultLog: logs.vault,
      ingestLog: logs.ingest,
      async close() {
        await planes.close().catch(() => undefined);
        await infra.close();
      },
    };
  } catch (err) {
    await infra.close();
    throw err;
  }
}

/** Run the ceremony and hand it to the vault over the admin bus, as `coffer init` does. */
export async function bootstrap(admin: Bus): Promise<CeremonyOutput> {
  const { replyKey } = await orgStatus(admin);
  const ceremony = await runCeremony({ ...BOOTSTRAP, now: new Date(), vaultReplyKey: replyKey });
  await callVault(admin, 'bootstrap', ceremony.request);
  return ceremony;
}

/**
 * Ingest built directly (startPlanes keeps the DataKeySource to itself), so a test can refresh
 * the key on demand instead of waiting for the one-minute timer.
 */
export async function startIngest(infra: Infra, bus: Bus, trustRoot: string) {
  const { app, keys } = await buildIngest({
    bus,
    trustRoot: PublicKey.fromBase64url('ed25519', trustRoot),
    log: ingestLog(infra),
    ratePerMinute: RATE,
  });
  await keys.start();
  const url = await app.listen({ host: HOST, port: 0 });
  return { app, keys, url, close: () => app.close() };
}

/** The first data key of a ceremony: the one whose window covers now. */
export const currentKeyId = (ceremony: CeremonyOutput): string => {
  const first = ceremony.request.dataKeys[0];
  if (!first) throw new Error('the ceremony made no data keys');
  return first.bundle.id;
};
