/**
 * Decoy records (issue 16, item 3): a key-admin plants them; a viewer who reveals or exports one
 * gets an ordinary answer, and the vault raises an alert — an audit event of its own, a Prometheus
 * counter and a message on the bus's alert subject. Nothing the viewer can read tells a decoy from
 * a real record: the responses of reveal, list, search, export and their own audit trail are
 * compared field by field and header by header. Timing is not measured here (see the threat model:
 * the alert is raised after the reply, and the check is the same work for every record).
 */
import { randomBytes } from 'node:crypto';
import { AlertMessage, checkJson, checkValue } from '@coffer/protocol';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { decoyTag } from '@coffer/vault';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, enrolUser, type Signed, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

const REAL_PANS = ['4111111111111111', '5555555555554444', '4012888888881881'];
const VIEWER = { email: 'viewer.decoys@example.com', password: 'viewer-lantern-quartz-harbour-27' };

/** Bounded poll: `probe` until it returns something, or fail after `tries`. */
// 600 tries of 50 ms (30 s): the alert and its audit event come from the vault after the reply, a
// moment that 5 s did not always cover on a loaded machine.
async function until<T>(probe: () => Promise<T | undefined>, tries = 600): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('gave up waiting');
}

/** Headers of a response, without the ones that differ per response anyway. */
const headerShape = (headers: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(headers).filter(([k]) => !['date', 'content-length'].includes(k)));
const shape = (value: unknown): unknown =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? value.map(shape)
      : typeof value === 'object'
        ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, shape(v)]))
        : typeof value;

describe.skipIf(!available)('decoy records', () => {
  const key = randomBytes(32);
  let stack: AdminStack;
  let admin: Signed;
  let viewer: Signed;
  let viewerId: string;
  let nc: NatsConnection;
  const alerts: Record<string, unknown>[] = [];
  let decoys: string[] = [];
  let reals: string[] = [];

  beforeAll(async () => {
    stack = await startAdminStack({ decoyKey: key });
    nc = await connect({ servers: stack.natsUrl });
    nc.subscribe(`${stack.names.alerts}.>`, {
      callback: (_err, msg) => {
        // Every alert is a version-1 AlertMessage of the protocol (checkJson throws otherwise).
        alerts.push({ subject: msg.subject, ...checkJson(AlertMessage, msg.json()) });
      },
    });
    await nc.flush();
    admin = await signIn(stack.app);
    reals = [];
    for (const pan of REAL_PANS) reals.push(await stack.addRecord('pan', pan, undefined, 2));
    viewerId = (await enrolUser(stack.app, admin, VIEWER.email, 'viewer', VIEWER.password)).id;
    viewer = await signIn(stack.app, VIEWER.email, VIEWER.password);
  });
  afterAll(async () => {
    await nc?.close();
    await stack?.close();
  });

  const tags = async () =>
    new Set((await stack.db.owner<{ tag: Buffer }[]>`SELECT tag FROM decoy_tags`).map((r) => r.tag.toString('hex')));
  const alertEvents = () =>
    stack.db.owner<{ actor: string; target: string; details: Record<string, string> }[]>`
      SELECT actor, target, details FROM audit_events WHERE action = 'alert.decoy' ORDER BY seq`;
  const counter = async (via: string) => {
    const text = await (await fetch(`${stack.vault.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`coffer_vault_decoy_touches_total{via="${via}"}`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  it('a key-admin plants decoys that pass every check of their type; a viewer may not plant', async () => {
    const refused = await call(stack.app, viewer, 'POST', '/api/decoys', { type: 'pan', count: 1 });
    expect(refused.statusCode).toBe(403);
    const res = await call(stack.app, admin, 'POST', '/api/decoys', { type: 'pan', count: 3 });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ planted: 3 });
    const tagged = await tags();
    const rows = await stack.db.owner<{ id: string }[]>`SELECT id FROM records`;
    decoys = rows.map((r) => r.id).filter((id) => tagged.has(decoyTag(key, id).toString('hex')));
    expect(decoys).toHaveLength(3);
    expect(reals.some((id) => decoys.includes(id))).toBe(false);
    // The audit says how many were planted, never which.
    const [event] = await stack.db
      .owner`SELECT target, details FROM audit_events WHERE action = 'decoy.plant' AND outcome = 'success'`;
    expect(event).toMatchObject({ target: null, details: { count: 3, type: 'pan' } });
  });

  it('a database reader sees decoys stored exactly like ingest stores records', async () => {
    const columns = async (ids: string[]) =>
      stack.db.owner`SELECT type, hint_source, (context_id IS NULL) AS no_context, (hint IS NULL) AS no_hint,
          (expires_at IS NULL) AS no_expiry, data_key_id, stored_at = submitted_at AS same_time,
          stored_at > submitted_at AS stored_after, (context_enc_sha256 IS NULL) AS no_enc_digest
        FROM records WHERE id = ANY(${ids}::uuid[])`;
    const real = await columns(reals);
    for (const row of await columns(decoys)) expect(row).toEqual(real[0]);
    // The tags name no record: nothing joins decoy_tags to records without the vault's key.
    const [cols] = await stack.db.owner`SELECT count(*)::int AS n FROM information_schema.columns
      WHERE table_name = 'decoy_tags'`;
    expect(cols?.n).toBe(1);
  });

  it('a viewer reveals a decoy: an ordinary answer, then an audit event, a counter and a bus alert', async () => {
    const reveal = (id: string) => call(stack.app, viewer, 'POST', `/api/records/${id}/reveal`, { reason: 'CHG-1' });
    const real = await reveal(reals[0] as string);
    const decoy = await reveal(decoys[0] as string);
    expect(decoy.statusCode).toBe(real.statusCode);
    expect(decoy.statusCode).toBe(200);
    expect(headerShape(decoy.headers)).toEqual(headerShape(real.headers));
    expect(shape(decoy.json())).toEqual(shape(real.json()));
    expect(decoy.json()).toMatchObject({ id: decoys[0], type: 'pan', matchesType: true });
    expect(checkValue('pan', decoy.json().value).ok).toBe(true);

    const [event] = await until(async () => {
      const rows = await alertEvents();
      return rows.length > 0 ? rows : undefined;
    });
    expect(event).toMatchObject({ actor: 'vault', target: decoys[0], details: { user: viewerId, via: 'reveal' } });
    const alert = await until(async () => alerts.find((a) => a.recordId === decoys[0]));
    expect(alert).toMatchObject({
      subject: `${stack.names.alerts}.decoy`,
      kind: 'decoy',
      user: viewerId,
      via: 'reveal',
    });
    expect(await counter('reveal')).toBe(1);
    // The real record revealed just before raised nothing (alerts are raised in order).
    expect(await alertEvents()).toHaveLength(1);
    expect(alerts).toHaveLength(1);
  });

  it("the viewer's list, search and own audit trail show decoys exactly like real records", async () => {
    const list = await call(stack.app, viewer, 'GET', '/api/records?type=pan');
    const search = await call(stack.app, viewer, 'GET', '/api/records/search?type=pan');
    for (const res of [list, search]) {
      expect(res.statusCode).toBe(200);
      const items = res.json().items as { id: string }[];
      const real = items.find((i) => i.id === reals[0]);
      for (const id of decoys) {
        const item = items.find((i) => i.id === id);
        expect(shape(item)).toEqual(shape(real));
        expect({ ...item, id: '', hint: '', submittedAt: '' }).toEqual({ ...real, id: '', hint: '', submittedAt: '' });
      }
    }
    const trail = await call(stack.app, viewer, 'GET', '/api/audit/events?limit=500');
    const events = trail.json().items as { action: string; target: string | null }[];
    expect(events.some((e) => e.action === 'alert.decoy')).toBe(false);
    type Event = { details?: { requestId?: string } };
    const onDecoy = events.find((e) => e.target === decoys[0]) as Event | undefined;
    const onReal = events.find((e) => e.target === reals[0]) as Event | undefined;
    expect(shape(onDecoy)).toEqual(shape(onReal));
    // Each reveal has its own request id (issue 9 item 4d); nothing else may differ.
    const blank = (e: Event | undefined) => ({
      ...e,
      seq: 0,
      at: '',
      target: '',
      details: { ...e?.details, requestId: '' },
    });
    expect(blank(onDecoy)).toEqual(blank(onReal));
  });

  it('an export touching decoys streams them like any row, and alerts once per decoy', async () => {
    const res = await call(stack.app, viewer, 'POST', '/api/exports', { reason: 'CHG-2 audit sample', type: 'pan' });
    expect(res.statusCode).toBe(200);
    const lines = res.body.trim().split('\r\n');
    // The last line is the export's completeness trailer (issue 9 item 4a), as for any export.
    expect(lines.at(-1)).toBe(`# coffer export complete: ${reals.length + decoys.length} records`);
    const rows = lines.slice(1, -1).map((line) => line.split(','));
    expect(rows).toHaveLength(reals.length + decoys.length);
    for (const [id, type, value, submittedAt] of rows) {
      expect(type).toBe('pan');
      expect(checkValue('pan', value).ok).toBe(true);
      expect(new Date(submittedAt as string).toISOString()).toBe(submittedAt);
      expect(decoys.includes(id as string) || reals.includes(id as string)).toBe(true);
    }
    const events = await until(async () => {
      const all = (await alertEvents()).filter((e) => e.details.via === 'export');
      return all.length === decoys.length ? all : undefined;
    });
    expect(events.map((e) => e.target).sort()).toEqual([...decoys].sort());
    expect(await counter('export')).toBe(decoys.length);
    await until(async () => (alerts.length === 1 + decoys.length ? true : undefined));
  });
});
