/**
 * `pnpm bench:tls [--json]`: what TLS costs Coffer, with and without it in the same run.
 *
 *   1. Ingest records/s, p50, p99: plain HTTP + a password-authenticated NATS, against HTTPS served
 *      by ingest itself (COFFER_TLS_*) + NATS mutual TLS (NATS_TLS_* on ingest and the vault, a
 *      private nats-server with nats-mtls.conf's tls block and certificates from a throw-away PKI).
 *      Both set-ups run at once (each its own nats-server, vault process, database and ingest
 *      process); the rounds alternate between them with the same load generator and connections.
 *   2. Reveal server time (Fastify's reply.elapsedTime) p50/p99: the vault and the admin plane in
 *      this process over each of the two nats-servers, one sign-in each, then reveals paired one
 *      plain, one mutual TLS, so that load drift falls on both alike.
 *
 * Prints a table for docs/benchmarks.md and, with --json, one JSON object on the last stdout line.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { buildAdmin } from '@coffer/admin';
import { type Bus, callVault, connectNatsBus } from '@coffer/bus';
import { runCeremony } from '@coffer/cli';
import { encodeVaultReplyKeyFile, PrivateKey, PublicKey, recordBinding, seal } from '@coffer/crypto';
import { busNames, newRecordId } from '@coffer/protocol';
import { createTestDatabase, freePort, prepareRuntimeRole, type TestDatabase } from '@coffer/testkit';
import { migrate, startVault } from '@coffer/vault';
import pino from 'pino';
import postgres from 'postgres';
import type { LoadOptions } from './load.ts';
import { benchLifecycle } from './measure.ts';
import { fmt } from './reveal-support.ts';
import { tlsReport, VARIANTS, type Variant } from './tls-report.ts';
import {
  type BenchNats,
  type LoadRun,
  loadAverage,
  mutualTlsNats,
  password,
  passwordNats,
  runLoad,
  startPlane,
  stopPlane,
  throwAwayPki,
  waitFor,
} from './tls-support.ts';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const JSON_OUTPUT = process.argv.includes('--json');
const HOST = '127.0.0.1';
const CONNECTIONS = 64;
const WARMUP_SECONDS = env('BENCH_WARMUP_SECONDS', 2);
const SECONDS = env('BENCH_SECONDS', 8);
const ROUNDS = env('BENCH_ROUNDS', 3);
const REVEALS = env('BENCH_REVEALS', 300);
const REVEAL_WARMUP = 30;
const RATE_PER_MINUTE = 100_000_000;
const BOUND_MS = 6 * 60_000;
const ADMIN_EMAIL = 'bench-admin@coffer.localhost';
const ADMIN_PASSWORD = 'correct-quartz-lantern-harbour-91';
const PLANES = ['ingest', 'vault', 'admin'] as const;

const progress = (line: string) => process.stderr.write(`${line}\n`);

const { onCleanup, cleanUp, done: stopWatchdog } = benchLifecycle('bench:tls', BOUND_MS);

/** GET over HTTPS verifying the server against `ca` (autocannon itself does not verify). */
let negotiated = '';
function httpsStatus(url: string, ca: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    https
      .get(url, { ca }, (res) => {
        const socket = res.socket as TLSSocket;
        negotiated = `${socket.getProtocol()} ${socket.getCipher().name}`;
        res.resume();
        resolve(res.statusCode);
      })
      .on('error', () => resolve(undefined));
  });
}

async function main() {
  const loadBefore = loadAverage();
  const pki = await throwAwayPki();
  onCleanup('PKI directory', () => pki.remove());
  const caPem = readFileSync(pki.ca, 'utf8');
  const leaves = Object.fromEntries(
    await Promise.all(PLANES.map(async (p) => [p, await pki.issue({ name: p, role: 'nats-client' })] as const)),
  ) as Record<(typeof PLANES)[number], { cert: string; key: string }>;
  const busServer = await pki.issue({ name: 'localhost', role: 'nats-server', ips: [HOST] });
  const web = await pki.issue({ name: 'ingest.localhost', role: 'http-server', ips: [HOST] });

  // --- The two buses.
  const passwords = { ingest: password(), vault: password(), admin: password() };
  const nats: Record<Variant, BenchNats> = {
    plain: await passwordNats(passwords),
    tls: await mutualTlsNats(busServer, pki.ca),
  };
  for (const v of VARIANTS) onCleanup(`${v} nats-server`, () => nats[v].server.stop());
  const natsUrl = (v: Variant) => (v === 'tls' ? `tls://${HOST}:${nats.tls.server.port}` : nats.plain.server.url);
  const natsEnv = (v: Variant, plane: 'ingest' | 'vault'): Record<string, string> =>
    v === 'tls'
      ? {
          NATS_URL: natsUrl(v),
          NATS_TLS_CERT: leaves[plane].cert,
          NATS_TLS_KEY: leaves[plane].key,
          NATS_TLS_CA: pki.ca,
        }
      : { NATS_URL: natsUrl(v), NATS_USER: plane, NATS_PASSWORD: passwords[plane] };
  const connectBus = async (v: Variant, service: 'vault' | 'admin'): Promise<Bus> => {
    const tls = {
      cert: readFileSync(leaves[service].cert, 'utf8'),
      key: readFileSync(leaves[service].key, 'utf8'),
      ca: caPem,
    };
    const bus = await connectNatsBus({
      url: natsUrl(v),
      names: busNames(),
      service,
      ...(v === 'tls' ? { tls } : { user: service, password: passwords[service] }),
    });
    onCleanup(`${v} ${service} bus`, () => bus.close());
    return bus;
  };

  // --- One ceremony; each set-up its own database and vault process, bootstrapped with it.
  // One vault reply key for every vault of the run, certified by that ceremony.
  const replyKey = PrivateKey.generate('ed25519');
  const replyKeyFile = path.join(os.tmpdir(), `coffer-bench-reply-key-${randomUUID()}.json`);
  writeFileSync(replyKeyFile, encodeVaultReplyKeyFile(replyKey), { mode: 0o600 });
  onCleanup('reply key file', () => rmSync(replyKeyFile, { force: true }));
  const ceremony = await runCeremony({
    vaultReplyKey: replyKey.publicKey.toBase64url(),
    adminEmail: ADMIN_EMAIL,
    adminPassword: ADMIN_PASSWORD,
    shares: 3,
    threshold: 2,
    dataKeyDays: 90,
    horizonDays: 365,
    suite: 'x25519',
    now: new Date(),
  });
  const dbs = {} as Record<Variant, TestDatabase>;
  const owners = {} as Record<Variant, postgres.Sql>;
  const admins = {} as Record<Variant, Bus>;
  let vaults = {} as Record<Variant, ChildProcess>;
  const vaultEnv = {} as Record<Variant, Record<string, string>>;
  for (const v of VARIANTS) {
    dbs[v] = await createTestDatabase();
    onCleanup(`${v} database`, () => dbs[v].drop());
    owners[v] = postgres(dbs[v].ownerUrl, { max: 2, onnotice: () => {} });
    onCleanup(`${v} owner pool`, () => owners[v].end({ timeout: 5 }));
    await migrate(owners[v]);
    await prepareRuntimeRole(dbs[v]);
    const port = await freePort();
    vaultEnv[v] = {
      ...natsEnv(v, 'vault'),
      DATABASE_URL: dbs[v].runtimeUrl,
      HOST,
      PORT: String(port),
      COFFER_VAULT_REPLY_KEY_FILE: replyKeyFile,
    };
    vaults[v] = startPlane('vault', vaultEnv[v]);
    const child = vaults[v];
    onCleanup(`${v} vault process`, () => stopPlane(child));
    await waitFor(
      'the vault',
      async () => ((await fetch(`http://${HOST}:${port}/healthz`)).ok ? true : undefined),
      60_000,
    );
    admins[v] = await connectBus(v, 'admin');
    await callVault(admins[v], 'bootstrap', ceremony.request);
  }

  // --- 1. Ingest: both set-ups up at once, rounds alternating between them.
  const ingestUrl = {} as Record<Variant, string>;
  const ingests = {} as Record<Variant, ChildProcess>;
  for (const v of VARIANTS) {
    const port = await freePort();
    const served = v === 'tls' ? { COFFER_TLS_CERT: web.cert, COFFER_TLS_KEY: web.key, COFFER_TLS_CA: pki.ca } : {};
    ingests[v] = startPlane('ingest', {
      ...natsEnv(v, 'ingest'),
      ...served,
      COFFER_TRUST_ROOT: ceremony.trustRoot,
      COFFER_SUBMIT_RATE_PER_MINUTE: String(RATE_PER_MINUTE),
      HOST,
      PORT: String(port),
    });
    const child = ingests[v];
    onCleanup(`${v} ingest process`, () => stopPlane(child));
    ingestUrl[v] = `${v === 'tls' ? 'https' : 'http'}://${HOST}:${port}`;
    const ready = async () =>
      (v === 'tls'
        ? await httpsStatus(`${ingestUrl[v]}/readyz`, caPem)
        : (await fetch(`${ingestUrl[v]}/readyz`)).status) === 200
        ? true
        : undefined;
    await waitFor(`${v} ingest ready`, ready, 60_000);
  }
  const runs: Record<Variant, LoadRun[]> = { plain: [], tls: [] };
  let accepted = { plain: 0, tls: 0 };
  for (let r = 1; r <= ROUNDS; r++) {
    // Odd rounds plain first, even rounds TLS first: neither always follows the other.
    for (const v of r % 2 ? VARIANTS : [...VARIANTS].reverse()) {
      const options: LoadOptions = {
        url: `${ingestUrl[v]}/v1/records`,
        connections: CONNECTIONS,
        warmupSeconds: WARMUP_SECONDS,
        seconds: SECONDS,
        ...(v === 'tls' ? { tlsCa: pki.ca } : {}),
      };
      const watched = { ingest: ingests[v].pid, vault: vaults[v].pid, nats: nats[v].pid };
      const run = await runLoad(options, watched, (child) => onCleanup('load generator', () => child.kill('SIGKILL')));
      accepted = { ...accepted, [v]: accepted[v] + run.warmup.ok + run.measured.ok };
      runs[v].push(run);
      progress(
        `round ${r}/${ROUNDS} ${v}: ${fmt(run.measured.ok / run.measured.seconds)}/s, p99 ${run.measured.p99} ms`,
      );
    }
  }
  const loadDuring = loadAverage();
  for (const v of VARIANTS) await stopPlane(ingests[v]);
  // Every 202 stored: the vault drains what each ingest accepted.
  const stored = {} as Record<Variant, number>;
  for (const v of VARIANTS) {
    const count = async () => Number((await owners[v]<{ n: string }[]>`SELECT count(*) AS n FROM records`)[0]?.n);
    await waitFor(`${v} records stored`, async () => ((await count()) >= accepted[v] ? true : undefined), 120_000);
    stored[v] = await count();
    await stopPlane(vaults[v]);
  }
  vaults = {} as Record<Variant, ChildProcess>;

  // --- 2. Reveal: vault + admin plane in this process over each bus, paired reveals.
  progress('reveal: paired plain / mutual TLS');
  const [dataKey] = ceremony.request.dataKeys;
  if (!dataKey) throw new Error('the ceremony made no data key');
  const value = '4111111111111111';
  const reason = 'bench: TLS cost';
  const times: Record<Variant, number[]> = { plain: [], tls: [] };
  const reveal = {} as Record<Variant, () => Promise<void>>;
  for (const v of VARIANTS) {
    const sql = postgres(dbs[v].runtimeUrl, { max: 10, onnotice: () => {} });
    onCleanup(`${v} vault pool`, () => sql.end({ timeout: 5 }));
    const vault = await startVault({
      sql,
      bus: await connectBus(v, 'vault'),
      log: pino({ level: 'silent' }),
      host: HOST,
      port: 0,
      replyKeyFile,
    });
    onCleanup(`${v} vault`, () => vault.close());
    const app = await buildAdmin({
      bus: admins[v],
      trustRoot: PublicKey.fromBase64url('ed25519', ceremony.trustRoot),
      log: pino({ level: 'silent' }),
      signinPerMinute: 1000,
    });
    onCleanup(`${v} admin plane`, () => app.close());
    app.addHook('onResponse', async (req, reply) => {
      if (req.routeOptions.url === '/api/records/:id/reveal') times[v].push(reply.elapsedTime);
    });
    const id = newRecordId();
    const key = PublicKey.fromBase64url('x25519', dataKey.bundle.publicKey);
    const sealed = seal(key, Buffer.from(value), recordBinding(id, 'pan', dataKey.bundle.id));
    await owners[v]`INSERT INTO records (id, type, data_key_id, sealed, hint, submitted_at)
      VALUES (${id}, 'pan', ${dataKey.bundle.id}, ${sealed}, '1111', now())`;
    const signin = await app.inject({
      method: 'POST',
      url: '/api/session',
      payload: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    });
    const cookie = signin.cookies.find((c) => c.name === '__Host-coffer');
    if (signin.statusCode !== 200 || !cookie) throw new Error(`${v} sign-in failed: ${signin.statusCode}`);
    const headers = { cookie: `${cookie.name}=${cookie.value}`, 'x-coffer-csrf': signin.json().csrf as string };
    reveal[v] = async () => {
      const res = await app.inject({ method: 'POST', url: `/api/records/${id}/reveal`, headers, payload: { reason } });
      if (res.statusCode !== 200 || res.json().value !== value) throw new Error(`${v} reveal: ${res.statusCode}`);
    };
  }
  for (let i = 0; i < REVEAL_WARMUP; i++) for (const v of VARIANTS) await reveal[v]();
  await new Promise((r) => setImmediate(r));
  for (const v of VARIANTS) times[v].length = 0;
  for (let i = 0; i < REVEALS; i++) for (const v of i % 2 ? [...VARIANTS].reverse() : VARIANTS) await reveal[v]();
  await new Promise((r) => setImmediate(r));
  const loadAfter = loadAverage();
  for (const v of VARIANTS) {
    if (times[v].length !== REVEALS) throw new Error(`expected ${REVEALS} ${v} reveal times, got ${times[v].length}`);
  }

  return tlsReport({
    settings: { rounds: ROUNDS, warmupSeconds: WARMUP_SECONDS, seconds: SECONDS, connections: CONNECTIONS },
    reveals: REVEALS,
    revealWarmup: REVEAL_WARMUP,
    negotiated,
    loadAverage: { start: loadBefore, afterIngest: loadDuring, end: loadAfter },
    runs,
    revealTimes: times,
    stored,
    accepted,
  });
}

let code = 0;
try {
  const { report, json } = await main();
  console.log(`\n${report}`);
  if (JSON_OUTPUT) console.log(JSON.stringify(json));
} catch (err) {
  progress(`bench:tls failed: ${(err as Error).stack ?? err}`);
  code = 1;
} finally {
  await cleanUp();
  stopWatchdog();
}
process.exit(code);
