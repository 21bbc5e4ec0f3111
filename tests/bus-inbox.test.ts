// A requester names any reply subject it likes, and whoever answers publishes there. These tests
// prove, against a real nats-server, that ingest's credential cannot make the vault or JetStream
// publish into the admin plane's inbox: with the shipped deploy/nats/permissions.conf (admin in
// its own account), and with the vault's own per-operation reply check alone (a server without
// accounts, as when NATS_URL points at a plain one).
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type Bus, connectNatsBus } from '@coffer/bus';
import { busNames } from '@coffer/protocol';
import { connect, jetstream, type NatsServer, startNatsServer } from '@coffer/testkit';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type Conn = Awaited<ReturnType<typeof connect>>;
const permissionsConf = fileURLToPath(new URL('../deploy/nats/permissions.conf', import.meta.url));
const password = (): string => `p${randomBytes(24).toString('hex')}`;
// Every wait below ends as soon as its answer (or refusal) arrives: the bound is for a loaded
// machine, where 3 s for a JetStream ack or a reply through the server was not always enough.
const WAIT_MS = 15_000;
const QUIET_MS = 700;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Everything that arrives on `pattern` for this connection, as subject → body. */
function sniff(nc: Conn, ...patterns: string[]): string[] {
  const seen: string[] = [];
  for (const pattern of patterns) {
    nc.subscribe(pattern, { callback: (_err, msg) => void seen.push(`${msg.subject} ${decoder.decode(msg.data)}`) });
  }
  return seen;
}
const EVERY_INBOX = ['_INBOX_ingest.>', '_INBOX_admin.>', '_INBOX_vault.>', '_R_.>'];

/** Publish as a raw client with a chosen reply subject, then give any answer time to arrive. */
async function publishWithReply(nc: Conn, subject: string, reply: string, msgId?: string): Promise<void> {
  const h = natsHeaders();
  if (msgId) h.set('Nats-Msg-Id', msgId);
  nc.publish(subject, encoder.encode('{"forged":true}'), { reply, headers: h });
  await nc.flush();
  await new Promise((r) => setTimeout(r, QUIET_MS));
}

async function serveAsVault(bus: Bus): Promise<void> {
  bus.serve(bus.names.keysCurrent, async () => encoder.encode('key-bundle'), 'ingest');
  bus.serve(`${bus.names.admin}.>`, async () => encoder.encode('admin-answer'), 'admin');
  await bus.serving(); // a raw client's first publish must not reach the server before these
}

/**
 * Wait (bounded) until `line` has arrived: the honest answer is real work (a handler, a reply
 * through the server) that a loaded machine may not finish within QUIET_MS.
 */
async function arrived(seen: readonly string[], line: string): Promise<void> {
  for (const deadline = Date.now() + 15_000; !seen.includes(line) && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('with the shipped permissions (admin in its own account)', () => {
  let server: NatsServer;
  const passwords = { ingest: password(), vault: password(), admin: password() };
  let vault: Bus;
  let admin: Bus;
  let ingestRaw: Conn;
  let adminRaw: Conn;
  beforeAll(async () => {
    server = await startNatsServer({
      include: permissionsConf,
      env: {
        NATS_INGEST_PASSWORD: passwords.ingest,
        NATS_VAULT_PASSWORD: passwords.vault,
        NATS_ADMIN_PASSWORD: passwords.admin,
        NATS_SIEM_PASSWORD: `p${randomBytes(24).toString('hex')}`,
      },
    });
    const names = busNames();
    vault = await connectNatsBus({
      url: server.url,
      names,
      service: 'vault',
      user: 'vault',
      password: passwords.vault,
    });
    await vault.ensureRecordStream();
    await serveAsVault(vault);
    admin = await connectNatsBus({
      url: server.url,
      names,
      service: 'admin',
      user: 'admin',
      password: passwords.admin,
    });
    const as = (user: 'ingest' | 'admin') =>
      connect({
        servers: server.url,
        user,
        pass: passwords[user],
        inboxPrefix: `_INBOX_${user}`,
        reconnect: false,
        timeout: WAIT_MS,
      });
    ingestRaw = await as('ingest');
    adminRaw = await as('admin');
  });
  afterAll(async () => {
    for (const c of [ingestRaw, adminRaw]) await c?.close().catch(() => undefined);
    for (const b of [vault, admin]) await b?.close().catch(() => undefined);
    await server?.stop();
  });

  it('still answers each plane on its own inbox (admin through the account export)', async () => {
    const key = await ingestRaw.request('keys.current', '', { timeout: WAIT_MS });
    expect(key.string()).toBe('key-bundle');
    expect(decoder.decode(await admin.request('vault.admin.status', new Uint8Array(), WAIT_MS))).toBe('admin-answer');
    const ack = await jetstream(ingestRaw).publish('ingest.records', 'r', { msgID: 'honest-1', timeout: WAIT_MS });
    expect(ack.stream).toBe('INGEST');
  });

  it('does not let a keys.current request from ingest make the vault publish into the admin inbox', async () => {
    const seen = sniff(adminRaw, '_INBOX_admin.>');
    await adminRaw.flush();
    await publishWithReply(ingestRaw, 'keys.current', '_INBOX_admin.forged.1');
    expect(seen).toEqual([]);
  });

  it('does not let a record published by ingest make JetStream put its PubAck into the admin inbox', async () => {
    const seen = sniff(adminRaw, '_INBOX_admin.>');
    await adminRaw.flush();
    await publishWithReply(ingestRaw, 'ingest.records', '_INBOX_admin.forged.2', 'forged-record-1');
    expect(seen).toEqual([]);
  });
});

describe("the vault's own reply check, on a server without accounts", () => {
  let server: NatsServer;
  let vault: Bus;
  let raw: Conn;
  beforeAll(async () => {
    server = await startNatsServer({ jetstream: false });
    vault = await connectNatsBus({ url: server.url, names: busNames(), service: 'vault' });
    await serveAsVault(vault);
    raw = await connect({ servers: server.url, reconnect: false, timeout: WAIT_MS });
  });
  afterAll(async () => {
    await raw?.close().catch(() => undefined);
    await vault?.close().catch(() => undefined);
    await server?.stop();
  });

  it('answers keys.current only on the ingest inbox', async () => {
    const seen = sniff(raw, ...EVERY_INBOX);
    await raw.flush();
    await publishWithReply(raw, 'keys.current', '_INBOX_admin.forged.3');
    await publishWithReply(raw, 'keys.current', '_INBOX_vault.forged.4');
    await publishWithReply(raw, 'keys.current', '_R_.forged.5');
    await publishWithReply(raw, 'keys.current', '_INBOX_ingest.honest.6');
    await arrived(seen, '_INBOX_ingest.honest.6 key-bundle');
    expect(seen).toEqual(['_INBOX_ingest.honest.6 key-bundle']);
  });

  it('answers the admin API only on the admin inbox or a server reply subject', async () => {
    const seen = sniff(raw, ...EVERY_INBOX);
    await raw.flush();
    await publishWithReply(raw, 'vault.admin.status', '_INBOX_ingest.forged.7');
    await publishWithReply(raw, 'vault.admin.status', '_INBOX_admin.honest.8');
    await arrived(seen, '_INBOX_admin.honest.8 admin-answer');
    expect(seen).toEqual(['_INBOX_admin.honest.8 admin-answer']);
  });
});
