// The hostile-bus harness itself, against a real nats-server: transparent for what it does not
// touch (request/reply, JetStream publish with headers, the protocol's control lines), and a
// rewrite, a drop and a replay each do exactly what a test asks and nothing else.
import { jetstream, jetstreamManager, natsForTests, uniqueNamespace } from '@coffer/testkit';
import { connect, type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminOperation, type HostileBus, header, json, startHostileBus, withJson } from './support/hostile-bus.ts';

const upstream = await natsForTests();
const text = (d: Uint8Array) => new TextDecoder().decode(d);
const bytes = (s: string) => new TextEncoder().encode(s);

describe.skipIf(!upstream)('hostile bus harness', () => {
  let bus: HostileBus;
  let direct: NatsConnection; // the responder, connected straight to the server
  let proxied: NatsConnection; // the victim client, behind the hostile bus
  const ns = uniqueNamespace();

  beforeAll(async () => {
    bus = await startHostileBus(upstream as string);
    direct = await connect({ servers: upstream as string });
    proxied = await connect({ servers: bus.url, reconnect: false });
    direct.subscribe(`${ns}.echo`, {
      callback: (_e, m) => {
        m.respond(bytes(`echo:${text(m.data)}`));
      },
    });
    direct.subscribe(`${ns}.vault.admin.>`, {
      callback: (_e, m) => {
        m.respond(bytes(JSON.stringify({ v: 1, ok: true, result: { op: m.subject, got: text(m.data) } })));
      },
    });
    await direct.flush();
  });

  afterAll(async () => {
    await proxied?.close();
    await direct?.close();
    await bus?.close();
  });

  it('passes request/reply, PING/PONG and server INFO through untouched', async () => {
    const reply = await proxied.request(`${ns}.echo`, bytes('hello'), { timeout: 5000 });
    expect(text(reply.data)).toBe('echo:hello');
    const rtt = await proxied.rtt(); // a PING answered by the server's PONG through the proxy
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(proxied.info?.jetstream).toBe(true);
    const seen = bus.log.filter((m) => m.subject === `${ns}.echo`);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ direction: 'publish', headers: undefined });
    expect(bus.log.some((m) => m.direction === 'deliver' && text(m.payload) === 'echo:hello')).toBe(true);
  });

  it('passes a JetStream publish with its Nats-Msg-Id header through, and the PubAck back', async () => {
    const stream = `HB_${ns}`;
    const jsm = await jetstreamManager(direct);
    await jsm.streams.add({ name: stream, subjects: [`${ns}.js`] });
    try {
      const js = jetstream(proxied);
      const ack = await js.publish(`${ns}.js`, bytes('durable'), { msgID: 'id-1' });
      expect(ack).toMatchObject({ stream, seq: 1, duplicate: false });
      expect((await js.publish(`${ns}.js`, bytes('durable'), { msgID: 'id-1' })).duplicate).toBe(true);
      const stored = await jsm.streams.getMessage(stream, { seq: 1 });
      expect(stored && text(stored.data)).toBe('durable');
      expect(stored?.header.get('Nats-Msg-Id')).toBe('id-1');
      const published = bus.log.find((m) => m.subject === `${ns}.js`);
      expect(published && header(published, 'nats-msg-id')).toBe('id-1');
    } finally {
      await jsm.streams.delete(stream);
    }
  });

  it('rewrites a request, and separately a reply, by subject; the receivers see the rewrite', async () => {
    const op = adminOperation('users.confirm-material');
    const req = bus.onPublish(op, (m) => withJson(m, { ...json<Record<string, unknown>>(m), userId: 'mallory' }));
    const res = await proxied.request(`${ns}.vault.admin.users.confirm-material`, bytes('{"v":1,"userId":"alice"}'));
    req.off();
    expect(JSON.parse(JSON.parse(text(res.data)).result.got)).toEqual({ v: 1, userId: 'mallory' });
    expect(json(await req.next(1))).toEqual({ v: 1, userId: 'alice' }); // `seen` keeps the original

    const replies = bus.onReply(op, (m) => {
      const body = json<{ v: number; ok: boolean; result: Record<string, unknown> }>(m);
      return withJson(m, { ...body, result: { ...body.result, role: 'key-admin' } });
    });
    const rewritten = JSON.parse(
      text((await proxied.request(`${ns}.vault.admin.users.confirm-material`, bytes('{}'))).data),
    );
    expect(rewritten.result.role).toBe('key-admin');
    expect(replies.seen).toHaveLength(1);
    // Each reply is rewritten once; another operation's reply is not touched.
    const other = JSON.parse(text((await proxied.request(`${ns}.vault.admin.whoami`, bytes('{}'))).data));
    expect(other.result.role).toBeUndefined();
    replies.off();
  });

  it('rewrites headers of a published message', async () => {
    const sub = direct.subscribe(`${ns}.hdr`, { max: 1 });
    await direct.flush();
    const rule = bus.onPublish(`${ns}.hdr`, (m) => ({
      ...m,
      headers: { status: '', fields: [...(m.headers?.fields ?? []), ['X-Planted', 'yes']] },
    }));
    const h = natsHeaders();
    h.set('X-Original', 'kept');
    proxied.publish(`${ns}.hdr`, bytes('body'), { headers: h });
    for await (const m of sub) {
      expect(m.headers?.get('X-Original')).toBe('kept');
      expect(m.headers?.get('X-Planted')).toBe('yes');
      expect(text(m.data)).toBe('body');
    }
    rule.off();
  });

  it('drops a chosen message and only that one', async () => {
    const got: string[] = [];
    const sub = direct.subscribe(`${ns}.drop.*`, {
      callback: (_e, m) => {
        got.push(`${m.subject}:${text(m.data)}`);
      },
    });
    await direct.flush();
    const rule = bus.onPublish(`${ns}.drop.b`, () => 'drop');
    for (const s of ['a', 'b', 'c']) proxied.publish(`${ns}.drop.${s}`, bytes(s));
    await proxied.flush(); // the server has processed all three (PING after them, PONG back)
    await direct.flush();
    expect(got).toEqual([`${ns}.drop.a:a`, `${ns}.drop.c:c`]);
    expect(rule.seen).toHaveLength(1);
    // A dropped request simply times out for its sender.
    const dropped = bus.onPublish(`${ns}.echo`, () => 'drop');
    await expect(proxied.request(`${ns}.echo`, bytes('x'), { timeout: 500 })).rejects.toThrow(/timeout/i);
    dropped.off();
    rule.off();
    sub.unsubscribe();
  });

  it('replays a captured message later, and duplicates one on the spot', async () => {
    const got: string[] = [];
    const sub = direct.subscribe(`${ns}.replay`, {
      callback: (_e, m) => {
        got.push(text(m.data));
      },
    });
    await direct.flush();
    const rule = bus.onPublish(`${ns}.replay`, (m) => [m, m]);
    proxied.publish(`${ns}.replay`, bytes('once'));
    await proxied.flush();
    rule.off();
    const captured = await rule.next(1);
    await bus.inject(captured, 50);
    await bus.inject({ ...captured, payload: Buffer.from('forged') });
    await proxied.flush();
    await direct.flush();
    expect(got).toEqual(['once', 'once', 'once', 'forged']);
    sub.unsubscribe();

    // A delivery replayed to its client arrives again on the same subscription.
    const seenByClient: string[] = [];
    const clientSub = proxied.subscribe(`${ns}.to-client`, {
      callback: (_e, m) => {
        seenByClient.push(text(m.data));
      },
    });
    await proxied.flush();
    const deliveries = bus.onDeliver(`${ns}.to-client`);
    direct.publish(`${ns}.to-client`, bytes('pushed'));
    const delivered = await deliveries.next(1);
    await bus.inject(delivered);
    await proxied.flush();
    expect(seenByClient).toEqual(['pushed', 'pushed']);
    deliveries.off();
    clientSub.unsubscribe();
  });

  // Last: it ends the proxied connection the tests above share.
  it('cuts every proxied connection on demand, as a bus outage would', async () => {
    const closed = proxied.closed();
    bus.disconnectAll();
    await closed;
    expect(proxied.isClosed()).toBe(true);
    // The server itself is untouched: a direct client still gets answers.
    expect(text((await direct.request(`${ns}.echo`, bytes('still'))).data)).toBe('echo:still');
  });
});
