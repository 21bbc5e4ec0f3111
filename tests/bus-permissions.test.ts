// Proves deploy/nats/permissions.conf against a real nats-server: each service can do what the
// bus contract needs and is refused the rest. Every refusal is asserted as a permissions
// violation on the exact operation and subject, so a timeout or unrelated error cannot pass.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { natsSharedCell } from '@coffer/bus';
import {
  AckPolicy,
  connect,
  errors,
  jetstream,
  jetstreamManager,
  type NatsServer,
  RetentionPolicy,
  StorageType,
  startNatsServer,
} from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type Conn = Awaited<ReturnType<typeof connect>>;
type Violation = InstanceType<typeof errors.PermissionViolationError>;
const services = ['ingest', 'vault', 'admin'] as const;
type Service = (typeof services)[number];

const permissionsConf = fileURLToPath(new URL('../deploy/nats/permissions.conf', import.meta.url));
// Hex with a letter prefix: nats-server re-parses env values as config text (see permissions.conf).
const password = (): string => `p${randomBytes(24).toString('hex')}`;
const passwords: Record<Service, string> = { ingest: password(), vault: password(), admin: password() };
// Every wait below ends as soon as its answer (or refusal) arrives: the bound is for a loaded
// machine, where 3 s for a JetStream ack or a reply through the server was not always enough.
const WAIT_MS = 15_000;

let server: NatsServer;
const conns = {} as Record<Service, Conn>;
const violations = new Map<Conn, Violation[]>();
const adminSubjectsSeenByVault: string[] = [];

async function connectAs(service: Service): Promise<Conn> {
  const nc = await connect({
    servers: server.url,
    user: service,
    pass: passwords[service],
    inboxPrefix: `_INBOX_${service}`,
    reconnect: false,
    timeout: WAIT_MS,
  });
  // Violations of plain publishes only surface on the status stream, so record them from the start.
  const seen: Violation[] = [];
  violations.set(nc, seen);
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'error' && s.error instanceof errors.PermissionViolationError) seen.push(s.error);
    }
  })();
  return nc;
}

/** The PermissionViolationError somewhere in err's cause chain (requests wrap it in a RequestError). */
function violationIn(err: unknown): Violation | undefined {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof errors.PermissionViolationError) return e;
  }
  return undefined;
}

/** What a promise settled with: its rejection, or 'succeeded'. */
const outcomeOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => 'succeeded').catch((err: unknown) => err);

function expectViolation(outcome: unknown, operation: Violation['operation'], subject: string): void {
  const v = violationIn(outcome);
  expect(v, `not a permissions violation: ${String(outcome)}`).toBeInstanceOf(errors.PermissionViolationError);
  expect({ operation: v?.operation, subject: v?.subject }).toEqual({ operation, subject });
}

/** A request (JetStream API calls are requests) is rejected because its publish was refused. */
async function expectPublishRefused(subject: string, request: Promise<unknown>): Promise<void> {
  expectViolation(await outcomeOf(request), 'publish', subject);
}

/** A plain publish is refused; the server's only answer is an -ERR on the status stream. */
async function expectPlainPublishRefused(nc: Conn, subject: string): Promise<void> {
  const seen = violations.get(nc) ?? [];
  const from = seen.length; // only count violations caused by this publish
  nc.publish(subject, 'forged');
  await nc.flush(); // the server's -ERR precedes its PONG
  const deadline = Date.now() + WAIT_MS;
  while (seen.length === from && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expectViolation(seen[from] ?? 'no violation reported', 'publish', subject);
}

/** A denied subscription is closed by the client with the server's violation. */
async function expectSubscribeRefused(nc: Conn, subject: string, queue?: string): Promise<void> {
  const sub = nc.subscribe(subject, queue ? { queue } : {});
  const timeout = new Promise<string>((r) => setTimeout(() => r('subscription stayed open'), WAIT_MS));
  expectViolation(await Promise.race([sub.closed, timeout]), 'subscription', subject);
  sub.unsubscribe();
}

/** vault takes one record off INGEST and acks it, optionally reporting progress first. */
async function vaultTakesOne(working: boolean): Promise<string[]> {
  const consumer = await jetstream(conns.vault).consumers.get('INGEST', 'vault');
  const got: string[] = [];
  for await (const m of await consumer.fetch({ max_messages: 1, expires: WAIT_MS })) {
    got.push(m.string());
    if (working) m.working();
    expect(await m.ackAck({ timeout: WAIT_MS })).toBe(true); // the server confirmed the ack
  }
  return got;
}

async function ingestMessageCount(): Promise<number> {
  const jsm = await jetstreamManager(conns.vault);
  return (await jsm.streams.info('INGEST')).state.messages;
}

beforeAll(async () => {
  server = await startNatsServer({
    include: permissionsConf,
    env: {
      ...Object.fromEntries(services.map((s) => [`NATS_${s.toUpperCase()}_PASSWORD`, passwords[s]])),
      NATS_SIEM_PASSWORD: password(),
    },
    // COFFER_NATS_TRACE=1 logs every protocol line (e.g. which $JS.API subjects nats.js uses) and keeps the log.
    ...(process.env.COFFER_NATS_TRACE ? { config: 'debug: true\ntrace: true', keepDir: true } : {}),
  });
  for (const service of services) conns[service] = await connectAs(service);

  // vault's responders, as the service runs them (queue group `vault`, replies via allow_responses).
  conns.vault.subscribe('keys.current', { queue: 'vault', callback: (_err, msg) => void msg.respond('key-v1') });
  conns.vault.subscribe('vault.admin.>', {
    queue: 'vault',
    callback: (_err, msg) => {
      adminSubjectsSeenByVault.push(msg.subject);
      msg.respond('pong');
    },
  });
  await conns.vault.flush();
});

afterAll(async () => {
  for (const nc of Object.values(conns)) await nc.close().catch(() => undefined);
  await server?.stop();
});

describe('vault', () => {
  it('creates and updates the INGEST stream and the vault durable pull consumer', async () => {
    const jsm = await jetstreamManager(conns.vault);
    await jsm.streams.add({
      name: 'INGEST',
      subjects: ['ingest.records'],
      storage: StorageType.File,
      retention: RetentionPolicy.Workqueue,
      duplicate_window: 120 * 1e9, // nanoseconds
    });
    await jsm.streams.update('INGEST', { description: 'records from ingest, consumed by vault' });
    const info = await jsm.streams.info('INGEST');
    expect(info.config).toMatchObject({ retention: 'workqueue', storage: 'file', duplicate_window: 120 * 1e9 });

    await jsm.consumers.add('INGEST', { durable_name: 'vault', ack_policy: AckPolicy.Explicit });
    expect((await jsm.consumers.info('INGEST', 'vault')).config.durable_name).toBe('vault');
  });

  it('serves keys.current to ingest and vault.admin.ping to admin', async () => {
    const key = await conns.ingest.request('keys.current', '', { timeout: WAIT_MS });
    expect(key.string()).toBe('key-v1');
    const pong = await conns.admin.request('vault.admin.ping', '', { timeout: WAIT_MS });
    expect(pong.string()).toBe('pong');
  });

  it('is refused publishing to ingest.records', async () => {
    await expectPlainPublishRefused(conns.vault, 'ingest.records');
  });
});

describe('ingest', () => {
  it('publishes through JetStream, gets a PubAck, and a repeated msgID is a duplicate', async () => {
    const js = jetstream(conns.ingest);
    const first = await js.publish('ingest.records', 'record-1', { msgID: 'rec-1', timeout: WAIT_MS });
    expect(first.stream).toBe('INGEST');
    expect(first.seq).toBeGreaterThan(0);
    expect(first.duplicate).toBe(false);
    const again = await js.publish('ingest.records', 'record-1', { msgID: 'rec-1', timeout: WAIT_MS });
    expect(again).toMatchObject({ duplicate: true, seq: first.seq });
  });

  it('lets vault fetch and ack that record, which removes it from the work queue', async () => {
    expect(await vaultTakesOne(false)).toEqual(['record-1']);
    expect(await ingestMessageCount()).toBe(0);
  });

  it('is refused subscribing to ingest.records (plain and as queue vault)', async () => {
    await expectSubscribeRefused(conns.ingest, 'ingest.records');
    await expectSubscribeRefused(conns.ingest, 'ingest.records', 'vault');
  });

  it('is refused the JetStream API: account and stream info, consumer create', async () => {
    await expectPublishRefused('$JS.API.INFO', jetstreamManager(conns.ingest));
    const jsm = await jetstreamManager(conns.ingest, { checkAPI: false });
    await expectPublishRefused('$JS.API.STREAM.INFO.INGEST', jsm.streams.info('INGEST'));
    const snoop = { durable_name: 'snoop', ack_policy: AckPolicy.None };
    await expectPublishRefused('$JS.API.CONSUMER.CREATE.INGEST.snoop', jsm.consumers.add('INGEST', snoop));
  });

  it('is refused fetching from the vault consumer, and the record stays queued', async () => {
    await jetstream(conns.ingest).publish('ingest.records', 'record-2', { msgID: 'rec-2', timeout: WAIT_MS });
    const next = '$JS.API.CONSUMER.MSG.NEXT.INGEST.vault';
    await expectPublishRefused(next, conns.ingest.request(next, JSON.stringify({ batch: 1 }), { timeout: WAIT_MS }));
    const info = await (await jetstreamManager(conns.vault)).consumers.info('INGEST', 'vault');
    expect({ pending: info.num_pending, delivered: info.num_ack_pending }).toEqual({ pending: 1, delivered: 0 });
  });

  it('leaves vault free to mark that record in progress and then ack it', async () => {
    // Two responses to one delivery: allow_responses grants only one, so this needs $JS.ACK.INGEST.vault.>.
    expect(await vaultTakesOne(true)).toEqual(['record-2']);
    expect(await ingestMessageCount()).toBe(0);
  });

  it('is refused publishing to the admin plane', async () => {
    await expectPublishRefused('vault.admin.x', conns.ingest.request('vault.admin.x', '', { timeout: WAIT_MS }));
    await expectPlainPublishRefused(conns.ingest, 'vault.admin.y');
    await conns.vault.flush();
    expect(adminSubjectsSeenByVault).not.toContain('vault.admin.x');
    expect(adminSubjectsSeenByVault).not.toContain('vault.admin.y');
  });
});

describe('admin', () => {
  it('is refused publishing to ingest.records, and nothing is stored', async () => {
    const before = await ingestMessageCount();
    await expectPlainPublishRefused(conns.admin, 'ingest.records');
    const js = jetstream(conns.admin);
    await expectPublishRefused('ingest.records', js.publish('ingest.records', 'forged', { timeout: WAIT_MS }));
    expect(await ingestMessageCount()).toBe(before);
  });

  it('is refused the JetStream API', async () => {
    await expectPublishRefused('$JS.API.INFO', jetstreamManager(conns.admin));
    const jsm = await jetstreamManager(conns.admin, { checkAPI: false });
    await expectPublishRefused('$JS.API.STREAM.INFO.INGEST', jsm.streams.info('INGEST'));
  });

  it('is refused subscribing to keys.current', async () => {
    await expectSubscribeRefused(conns.admin, 'keys.current');
  });
});

// issue 16 item 3: the vault publishes security alerts; nobody else can forge one.
describe('alerts', () => {
  it('vault publishes on alerts.>; ingest and admin are refused', async () => {
    const seen = violations.get(conns.vault) ?? [];
    const from = seen.length;
    conns.vault.publish('alerts.decoy', '{"v":1}');
    await conns.vault.flush();
    expect(seen.slice(from)).toEqual([]);
    await expectPlainPublishRefused(conns.ingest, 'alerts.decoy');
    await expectPlainPublishRefused(conns.admin, 'alerts.decoy');
  });
});

// issue 15 item 2: the admin replicas' shared revocation list lives in the ADMIN account's
// REVOCATIONS bucket. Admin writes it compare-and-set; no other bus user can write or remove it.
describe('revocations bucket', () => {
  const text = (v: Uint8Array | undefined) => new TextDecoder().decode(v);
  const bytes = (s: string) => new TextEncoder().encode(s);
  const SUBJECT = '$KV.REVOCATIONS.list';

  it('admin creates it, reads its entry and writes it only over the revision it read', async () => {
    const cell = natsSharedCell(conns.admin, 'REVOCATIONS', 1);
    expect(await cell.get()).toBeNull();
    expect(await cell.put(bytes('list 1'), 0)).toBe(true);
    const first = await cell.get();
    expect(text(first?.value)).toBe('list 1');
    expect(await cell.put(bytes('stale'), 0), 'a second create loses').toBe(false);
    expect(await cell.put(bytes('list 2'), first?.revision ?? -1)).toBe(true);
    expect(await cell.put(bytes('stale'), first?.revision ?? -1), 'an old revision loses').toBe(false);
    expect(text((await cell.get())?.value)).toBe('list 2');
  });

  it('admin is refused deleting or purging the bucket', async () => {
    const jsm = await jetstreamManager(conns.admin, { checkAPI: false });
    await expectPublishRefused('$JS.API.STREAM.DELETE.KV_REVOCATIONS', jsm.streams.delete('KV_REVOCATIONS'));
    await expectPublishRefused('$JS.API.STREAM.PURGE.KV_REVOCATIONS', jsm.streams.purge('KV_REVOCATIONS'));
  });

  it('ingest and vault cannot write, read or remove it; it still holds what admin wrote', async () => {
    for (const service of ['ingest', 'vault'] as const) {
      await expectPlainPublishRefused(conns[service], SUBJECT);
      const js = jetstream(conns[service]);
      await expectPublishRefused(SUBJECT, js.publish(SUBJECT, 'forged', { timeout: WAIT_MS }));
      const jsm = await jetstreamManager(conns[service], { checkAPI: false });
      await expectPublishRefused('$JS.API.STREAM.DELETE.KV_REVOCATIONS', jsm.streams.delete('KV_REVOCATIONS'));
      const get = `$JS.API.DIRECT.GET.KV_REVOCATIONS.${SUBJECT}`;
      await expectPublishRefused(get, conns[service].request(get, '', { timeout: WAIT_MS }));
    }
    const cell = natsSharedCell(conns.admin, 'REVOCATIONS', 1);
    expect(text((await cell.get())?.value)).toBe('list 2');
  });
});

// Last, so that if this ever stops being refused the deletion cannot cascade into the tests above.
describe('vault limits', () => {
  it('is refused JetStream operations beyond its stream and consumer', async () => {
    const jsm = await jetstreamManager(conns.vault);
    await expectPublishRefused('$JS.API.STREAM.DELETE.INGEST', jsm.streams.delete('INGEST'));
    await expectPublishRefused('$JS.API.STREAM.PURGE.INGEST', jsm.streams.purge('INGEST'));
    await expectPublishRefused('$JS.API.STREAM.CREATE.OTHER', jsm.streams.add({ name: 'OTHER', subjects: ['other'] }));
    const other = { durable_name: 'other', ack_policy: AckPolicy.Explicit };
    await expectPublishRefused('$JS.API.CONSUMER.CREATE.INGEST.other', jsm.consumers.add('INGEST', other));
  });
});

describe('authentication', () => {
  const refused = async (opts: { user?: string; pass?: string }): Promise<void> => {
    const attempt = connect({ servers: server.url, reconnect: false, timeout: WAIT_MS, ...opts });
    expect(await outcomeOf(attempt.then((nc) => nc.close()))).toBeInstanceOf(errors.AuthorizationError);
  };

  it('refuses an anonymous connection', async () => {
    await refused({});
  });

  it('refuses a wrong password', async () => {
    await refused({ user: 'vault', pass: passwords.ingest });
  });
});
