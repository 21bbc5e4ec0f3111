// Issue 11, item 5: scale-out on one machine (loopback ports). A three-node NATS cluster with the
// INGEST stream at three replicas, two ingest and two admin replicas and a vault, each its own
// process. Under a steady submission load one NATS node is killed and restarted, one ingest
// replica and the vault are killed (a new vault is started): every 202 is stored exactly once and
// nothing else is. An Idempotency-Key retried on the other ingest replica yields one record, and
// an admin session outlives the admin replica that made it.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { callVault, connectNatsBus, idempotencyNames, orgStatus } from '@coffer/bus';
import { runCeremony } from '@coffer/cli';
import { busNames } from '@coffer/protocol';
import {
  connect,
  createTestDatabase,
  jetstreamManager,
  postgresAvailable,
  prepareRuntimeRole,
  type TestDatabase,
} from '@coffer/testkit';
import { migrate } from '@coffer/vault';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminGet, reveal, signIn } from './support/admin-client.ts';
import { type Answer, sleep, submit, waitFor } from './support/http.ts';
import { type NatsCluster, startNatsCluster } from './support/nats-cluster.ts';
import { type PlaneProcess, startPlaneProcess } from './support/service-process.ts';
import { BOOTSTRAP } from './support/stack.ts';
import { mixedSamples, type Sample } from './support/values.ts';

const available = await postgresAvailable();
const LOAD_MS = 22_000;
const WORKERS = 6;

describe.skipIf(!available)('scale-out: 3 NATS nodes, 2 ingest, 2 admin, faults under load', () => {
  let cluster: NatsCluster;
  let db: TestDatabase;
  let owner: postgres.Sql;
  let dir: string;
  const procs: PlaneProcess[] = [];
  let ingest: PlaneProcess[] = [];
  let admin: PlaneProcess[] = [];
  let vault: PlaneProcess;
  let trustRoot = '';

  const natsEnv = (plane: 'ingest' | 'vault' | 'admin', node: number) => ({
    NATS_URL: cluster.nodes[node]?.url as string,
    NATS_USER: plane,
    NATS_PASSWORD: cluster.passwords[plane],
  });
  const startVault = async (node: number) => {
    const p = await startPlaneProcess('vault', {
      ...natsEnv('vault', node),
      DATABASE_URL: db.runtimeUrl,
      COFFER_STREAM_REPLICAS: '3',
      COFFER_REQUIRE_MFA: 'false',
      // One reply key across the vault's restarts, certified by the ceremony below.
      COFFER_VAULT_REPLY_KEY_FILE: path.join(dir, 'vault-reply-key.json'),
    });
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'coffer-scale-'));
    const secretFile = path.join(dir, 'idempotency.secret');
    await writeFile(secretFile, randomBytes(32), { mode: 0o600 });
    [cluster, db] = await Promise.all([startNatsCluster(3), createTestDatabase()]);
    owner = postgres(db.ownerUrl, { max: 2, onnotice: () => {} });
    await migrate(owner);
    await prepareRuntimeRole(db);
    vault = await startVault(0);
    const adminBus = await connectNatsBus({
      url: cluster.nodes[1]?.url as string,
      names: busNames(),
      service: 'admin',
      user: 'admin',
      password: cluster.passwords.admin,
    });
    const { replyKey } = await orgStatus(adminBus);
    const ceremony = await runCeremony({ ...BOOTSTRAP, now: new Date(), vaultReplyKey: replyKey });
    await callVault(adminBus, 'bootstrap', ceremony.request);
    await adminBus.close();
    trustRoot = ceremony.trustRoot;
    const ingestEnv = (node: number) => ({
      ...natsEnv('ingest', node),
      COFFER_TRUST_ROOT: trustRoot,
      COFFER_SUBMIT_RATE_PER_MINUTE: '1000000',
      COFFER_IDEMPOTENCY_SECRET_FILE: secretFile,
    });
    const adminEnv = (node: number) => ({ ...natsEnv('admin', node), COFFER_TRUST_ROOT: trustRoot });
    [ingest, admin] = await Promise.all([
      Promise.all([startPlaneProcess('ingest', ingestEnv(0)), startPlaneProcess('ingest', ingestEnv(1))]),
      Promise.all([
        startPlaneProcess('admin', adminEnv(1), { ready: 'healthz' }),
        startPlaneProcess('admin', adminEnv(2), { ready: 'healthz' }),
      ]),
    ]);
    procs.push(...ingest, ...admin);
    // Five tsx processes start on a shared two-core machine: allow for it.
  }, 240_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
    await owner?.end({ timeout: 5 });
    await db?.drop();
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('keeps the records stream at three replicas, one per node', async () => {
    const nc = await connect({
      servers: cluster.nodes[0]?.url as string,
      user: 'vault',
      pass: cluster.passwords.vault,
      inboxPrefix: '_INBOX_vault',
    });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info('INGEST');
      expect(info.config.num_replicas).toBe(3);
      expect(info.cluster?.replicas?.length).toBe(2); // the leader plus two followers
      const idem = await jsm.streams.info(idempotencyNames(busNames()).stream);
      expect(idem.config.num_replicas).toBe(3);
      expect(idem.config.discard_new_per_subject).toBe(true);
    } finally {
      await nc.close();
    }
  });

  it('an Idempotency-Key retried on the other ingest replica yields one record', async () => {
    const key = `retry-${randomBytes(6).toString('hex')}`;
    const sample = { type: 'secret' as const, value: 'sent twice, stored once' };
    const first = await submit(ingest[0]?.url as string, sample, key);
    const second = await submit(ingest[1]?.url as string, sample, key);
    expect(first.status).toBe(202);
    expect(second).toEqual(first);
    const other = await submit(ingest[1]?.url as string, { type: 'secret', value: 'another body' }, key);
    expect(other.status).toBe(422);
    const id = String(first.body.id);
    await waitFor('the record stored', async () => (await owner`SELECT 1 FROM records WHERE id = ${id}`).length === 1);
    const [row] = await owner<{ n: number }[]>`SELECT count(*)::int AS n FROM records`;
    expect(row?.n).toBe(1);
  });

  it('every 202 is stored exactly once through a NATS node, an ingest replica and the vault dying', async () => {
    const before = new Set((await owner<{ id: string }[]>`SELECT id::text AS id FROM records`).map((r) => r.id));
    const samples = mixedSamples(50_000);
    const accepted = new Map<string, string>(); // idempotency key -> id
    const conflicts: string[] = [];
    let sent = 0;
    let attempts = 0;
    let refusedAttempts = 0;
    let deadReplicaRefused = false;
    let stop = false;
    const log: string[] = [];
    const started = Date.now();
    const at = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;

    const submitOnce = async (sample: Sample, key: string, first: number): Promise<void> => {
      // A client retries 503s for up to 30 s: a stream leader election after a NATS node dies
      // can take several seconds on a busy machine.
      const giveUpAt = Date.now() + 30_000;
      for (let attempt = 0; Date.now() < giveUpAt; attempt++) {
        const target = ingest[(first + attempt) % ingest.length] as PlaneProcess;
        attempts++;
        let answer: Answer | undefined;
        try {
          answer = await submit(target.url, sample, key);
        } catch {
          answer = undefined; // connection refused or reset: that replica is gone
        }
        if (answer?.status === 202) {
          const id = String(answer.body.id);
          const earlier = accepted.get(key);
          if (earlier && earlier !== id) conflicts.push(`${key}: ${earlier} then ${id}`);
          accepted.set(key, id);
          return;
        }
        refusedAttempts++;
        if (answer && answer.status !== 503)
          throw new Error(`unexpected ${answer.status} ${JSON.stringify(answer.body)}`);
        await sleep(100);
      }
      throw new Error(`${key} never accepted`);
    };
    const worker = async (w: number) => {
      while (!stop) {
        const i = sent++;
        await submitOnce(samples[i % samples.length] as Sample, `load-${i}`, i + w);
      }
    };

    const faults = (async () => {
      await sleep(2_000);
      await vault.kill('SIGKILL');
      log.push(`${at()} vault SIGKILLed, ${accepted.size} accepted`);
      await sleep(2_000);
      vault = await startVault(2);
      log.push(`${at()} new vault started on node 3`);
      await sleep(2_000);
      await cluster.kill(2);
      const atNodeKill = accepted.size;
      log.push(`${at()} NATS node 3 SIGKILLed, ${accepted.size} accepted`);
      // Under load the clients reconnect to the other nodes within seconds; give a busy machine
      // time, but the node stays down until submissions were accepted without it.
      await sleep(4_000);
      await waitFor(
        'submissions accepted while a NATS node is down',
        async () => accepted.size > atNodeKill,
        30_000,
        250,
      );
      await cluster.restart(2);
      log.push(`${at()} NATS node 3 restarted, ${accepted.size} accepted`);
      await sleep(3_000);
      await ingest[0]?.kill('SIGKILL');
      log.push(`${at()} ingest replica 1 SIGKILLed, ${accepted.size} accepted`);
      // The replica is really gone: a client that tries it now is refused (and moves on).
      deadReplicaRefused = await submit(ingest[0]?.url as string, samples[0] as Sample).then(
        () => false,
        () => true,
      );
    })();
    const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    await faults;
    // Keep the load on for a while after the last fault even on a slow machine, so that new
    // submissions meet the dead ingest replica (half of them are sent to it first).
    await sleep(Math.max(2_000, LOAD_MS - (Date.now() - started)));
    stop = true;
    await load;
    log.push(`${at()} load stopped`);

    const ids = new Set(accepted.values());
    const stored = async () =>
      new Set(
        (await owner<{ id: string }[]>`SELECT id::text AS id FROM records`)
          .map((r) => r.id)
          .filter((id) => !before.has(id)),
      );
    // The killed vault's unacked batch comes back after the consumer's ack wait (30 s).
    const rows = await waitFor(
      'every accepted record stored',
      async () => {
        const s = await stored();
        return [...ids].every((id) => s.has(id)) && s;
      },
      60_000,
      500,
    );
    await sleep(1_000); // anything extra would have landed with the rest
    const final = await stored();
    const lost = [...ids].filter((id) => !final.has(id));
    const extra = [...final].filter((id) => !ids.has(id));
    const [dead] = await owner<{ n: number }[]>`SELECT count(*)::int AS n FROM dead_letters`;
    const figures = {
      sent,
      accepted: ids.size,
      stored: final.size,
      lost: lost.length,
      duplicated: extra.length + conflicts.length,
      attempts,
      refusedAttempts,
    };
    process.stdout.write(
      `scale-out faults: ${log.join('; ')}\nscale-out figures: ${JSON.stringify(figures)} (${at()})\n`,
    );

    expect(await ingest[0]?.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(rows.size).toBeGreaterThan(0);
    expect(conflicts).toEqual([]);
    expect(lost).toEqual([]);
    expect(extra).toEqual([]);
    expect(final.size).toBe(ids.size);
    expect(dead?.n).toBe(0);
    // Whether a load request happened to meet a fault depends on timing; that the dead replica
    // refused a request does not.
    expect(deadReplicaRefused, 'the killed ingest replica refused a submission').toBe(true);
    // Its own bounded waits (a vault start, a node's return, a client's 30 s of retries, the ack
    // wait) add up to about four minutes on a slow machine: the timeout is for a hang, not for them.
  }, 300_000);

  it('an admin session made on one replica keeps working on the other after the first dies', async () => {
    const session = await signIn(admin[0]?.url as string, BOOTSTRAP.adminEmail, BOOTSTRAP.adminPassword);
    const [record] = await owner<{ id: string }[]>`SELECT id::text AS id FROM records WHERE type = 'secret' LIMIT 1`;
    await admin[0]?.kill('SIGKILL');
    const me = await adminGet(admin[1]?.url as string, session, '/api/me');
    expect(me.status).toBe(200);
    const revealed = await reveal(admin[1]?.url as string, session, record?.id as string, 'failover check');
    expect(revealed.status).toBe(200);
    expect(typeof revealed.body.value).toBe('string');
  });
});
