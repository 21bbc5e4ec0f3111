/**
 * Issue 15, item 1, on a real stack (vault, ingest and admin plane over a real NATS and
 * PostgreSQL): a viewer who copied every data key they could unwrap — the current one and the
 * pre-generated keys of windows not yet begun — is revoked. The revocation destroys the future
 * keys and starts a fresh current window at once, wrapped only to those who remain; ingest moves
 * to it within its refresh bound. No record submitted after the revocation opens with any copied
 * key (tried against the stored blobs), while the key-admin reveals every one, and the records
 * sealed before stay readable.
 */
import { randomUUID } from 'node:crypto';
import type { Planes } from '@coffer/cli';
import { openRecord, type PrivateKey, PublicKey, RecordSealingContext, recordBinding, seal } from '@coffer/crypto';
import { encodeJson, newRecordId } from '@coffer/protocol';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import type { VaultDatabase } from '@coffer/vault/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessPlanes, KA_EMAIL, KA_PASSWORD, startInProcessPlanes } from './support/in-process-planes.ts';
import { dataKeyOf, userKeyOf } from './support/user-keys.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const VIEWER_PASSWORD = 'violet-harbour-compass-7342-quietly';

describe.skipIf(!available)('rotation on revocation (issue 15, item 1)', () => {
  let t: InProcessPlanes;
  let db: VaultDatabase;
  let planes: Planes;

  beforeAll(async () => {
    t = await startInProcessPlanes({ suite: 'x25519', dataKeyDays: 30, horizonDays: 90 });
    ({ db, planes } = t);
  });
  afterAll(() => t?.close());

  const submit = (value: string) => t.submit(value);
  const storedBlob = async (id: string) => {
    for (let i = 0; i < 200; i++) {
      const [row] = await db.owner<{ data_key_id: string; sealed: Buffer; enc: Buffer | null }[]>`
        SELECT r.data_key_id, r.sealed, c.enc FROM records r LEFT JOIN record_contexts c ON c.id = r.context_id
        WHERE r.id = ${id}`;
      if (row) return row;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`record ${id} was not stored`);
  };

  type Who = { cookie: string; csrf: string };
  const api = (method: string, path: string, who: Who, body?: unknown) =>
    fetch(`${planes.adminUrl}${path}`, {
      method,
      headers: {
        cookie: who.cookie,
        'x-coffer-csrf': who.csrf,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const signIn = async (email: string, password: string): Promise<Who> => {
    const res = await api('POST', '/api/session', { cookie: '', csrf: '' }, { email, password });
    expect(res.status).toBe(200);
    return {
      cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] as string,
      csrf: ((await res.json()) as { csrf: string }).csrf,
    };
  };

  /** A viewer invited, accepted and confirmed by `admin`: they hold every data key. */
  const confirmedViewer = async (admin: Who, email: string) => {
    const invite = (await (await api('POST', '/api/users', admin, { email, role: 'viewer' })).json()) as {
      id: string;
      inviteToken: string;
    };
    const accepted = await api(
      'POST',
      '/api/invites/accept',
      { cookie: '', csrf: '' },
      { token: invite.inviteToken, password: VIEWER_PASSWORD },
    );
    const { fingerprint } = (await accepted.json()) as { fingerprint: string };
    expect((await api('POST', `/api/users/${invite.id}/confirm`, admin, { fingerprint })).status).toBe(200);
    return invite;
  };

  /** What a viewer can save while signed in: every data key wrapped to them, opened with their password. */
  const copyEveryKey = async (userId: string) => {
    const viewer = await userKeyOf(db.owner, { id: userId }, VIEWER_PASSWORD);
    const copies = await db.owner<{ key_id: string; wrapped: Buffer }[]>`
      SELECT key_id, wrapped FROM wrapped_keys WHERE key_kind = 'data' AND recipient_id = ${userId}`;
    return new Map<string, PrivateKey<'x25519'>>(
      copies.map((c) => [c.key_id, dataKeyOf('x25519', viewer, c.key_id, c.wrapped)]),
    );
  };

  const opensWith = (key: PrivateKey<'x25519'>, id: string, blob: Awaited<ReturnType<typeof storedBlob>>) => {
    try {
      openRecord(key, blob.sealed, { recordId: id, type: 'secret', dataKeyId: blob.data_key_id, contextEnc: blob.enc });
      return true;
    } catch {
      return false;
    }
  };

  /** What the first test leaves: the revoked viewer's saved keys, and the key a rotation superseded. */
  let saved: Map<string, PrivateKey<'x25519'>> | undefined;
  let superseded = '';

  it('retires the keys a revoked viewer saved; records submitted afterwards open for the key-admin only', async () => {
    const admin = await signIn(KA_EMAIL, KA_PASSWORD);
    const invite = await confirmedViewer(admin, 'v@example.com');

    const before = await submit('sealed before the revocation');
    const beforeBlob = await storedBlob(before.id);
    const copied = await copyEveryKey(invite.id);
    saved = copied;
    superseded = before.keyId;
    expect(copied.size).toBe(3); // the current window and two not yet begun
    expect(opensWith(copied.get(before.keyId) as PrivateKey<'x25519'>, before.id, beforeBlob)).toBe(true);

    expect((await api('DELETE', `/api/users/${invite.id}`, admin)).status).toBe(204);

    // The future keys are gone, the old current key is superseded, its replacement begins now.
    const keys = await db.owner<{ id: string; not_before: Date; retired_at: Date | null }[]>`
      SELECT id, not_before, retired_at FROM data_keys ORDER BY not_before`;
    const live = keys.filter((k) => k.retired_at === null);
    expect(keys.find((k) => k.id === before.keyId)?.retired_at).not.toBeNull();
    for (const k of live) expect(copied.has(k.id)).toBe(false);
    expect(live.length).toBeGreaterThanOrEqual(3); // the same horizon, from now
    expect(keys.filter((k) => copied.has(k.id)).map((k) => k.id)).toEqual([before.keyId]);
    const viewerCopies = await db.owner`SELECT 1 FROM wrapped_keys WHERE recipient_id = ${invite.id}`;
    expect(viewerCopies).toHaveLength(0);

    // Ingest takes the new key at its next refresh (at most 10 s): a bounded poll.
    let current = '';
    for (let i = 0; i < 300 && (current === '' || current === before.keyId); i++) {
      const res = await fetch(`${planes.ingestUrl}/v1/keys/current`);
      current = ((await res.json()) as { bundle: { id: string } }).bundle.id;
      if (current === before.keyId) await new Promise((r) => setTimeout(r, 100));
    }
    expect(current).not.toBe(before.keyId);

    const after = [];
    for (let i = 0; i < 5; i++) after.push({ ...(await submit(`sealed after the revocation ${i}`)), value: i });
    for (const r of after) {
      const blob = await storedBlob(r.id);
      expect(copied.has(blob.data_key_id)).toBe(false);
      for (const key of copied.values()) expect(opensWith(key, r.id, blob)).toBe(false);
      const revealed = await api('POST', `/api/records/${r.id}/reveal`, admin, { reason: 'rotation test' });
      expect(await revealed.json()).toMatchObject({ id: r.id, value: `sealed after the revocation ${r.value}` });
    }
    const old = await api('POST', `/api/records/${before.id}/reveal`, admin, { reason: 'rotation test' });
    expect(await old.json()).toMatchObject({ value: 'sealed before the revocation' });

    const [audit] = await db.owner<{ details: { retiredKeys: number } }[]>`
      SELECT details FROM audit_events WHERE action = 'user.revoke'`;
    expect(audit?.details.retiredKeys).toBe(2);
    const [rotation] = await db.owner`SELECT 1 FROM audit_events WHERE action = 'keys.rotate'`;
    expect(rotation).toBeDefined();
  });

  it('a database writer cannot make ingest seal to the superseded key again', async () => {
    if (!saved || !superseded) throw new Error('the first test did not run');
    // The writer swaps the flags: the superseded key is "current" again, its replacement retired.
    await db.owner`UPDATE data_keys SET retired_at = now() WHERE retired_at IS NULL AND not_before <= now()`;
    await db.owner`UPDATE data_keys SET retired_at = NULL WHERE id = ${superseded}`;
    // Ingest refreshes every 10 s: poll (bounded) for it to take the key the writer offers.
    for (let i = 0; i < 150; i++) {
      const res = await fetch(`${planes.ingestUrl}/v1/keys/current`);
      if (((await res.json()) as { bundle: { id: string } }).bundle.id === superseded) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = await submit('sealed after the writer un-retired the old key');
    const blob = await storedBlob(r.id);
    const opensForRevoked = [...saved.values()].some((key) => opensWith(key, r.id, blob));
    expect({ keyId: blob.data_key_id === superseded ? 'superseded' : 'fresh', opensForRevoked }).toEqual({
      keyId: 'fresh',
      opensForRevoked: false,
    });
  });

  it('a record a bus operator seals to a future key is dead-lettered: the revocation still destroys that key', async () => {
    const admin = await signIn(KA_EMAIL, KA_PASSWORD);
    const viewer = await confirmedViewer(admin, 'v2@example.com');
    const copied = await copyEveryKey(viewer.id);
    // Public keys of future windows are no secret (every viewer holds them); the bus, or whoever
    // holds ingest's credential, publishes as ingest does: one record, and a batch with a context.
    const [future] = await db.owner<{ id: string; public_key: string }[]>`
      SELECT id, public_key FROM data_keys WHERE not_before > now() + interval '1 day' AND retired_at IS NULL
      ORDER BY not_before LIMIT 1`;
    if (!future || !copied.has(future.id)) throw new Error('no future key that the viewer holds');
    const publicKey = PublicKey.fromBase64url('x25519', future.public_key);
    const id = newRecordId();
    const sealed = seal(publicKey, Buffer.from('forged ahead'), recordBinding(id, 'secret', future.id));
    const record = { id, type: 'secret' as const, keyId: future.id, hint: null, submittedAt: new Date().toISOString() };
    await t.buses.ingest.publishRecord(id, encodeJson({ v: 1, ...record, sealed: sealed.toString('base64') }));
    const context = RecordSealingContext.create(publicKey, future.id);
    const inBatch = { ...record, id: newRecordId(), contextId: context.contextId };
    const batch = {
      v: 3,
      batchId: randomUUID(),
      contexts: [{ id: context.contextId, keyId: future.id, enc: context.enc.toString('base64') }],
      records: [{ ...inBatch, sealed: context.seal(inBatch.id, 'secret', Buffer.from('forged')).toString('base64') }],
    };
    await t.buses.ingest.publishRecord(batch.batchId, encodeJson(batch));
    // Until the vault has taken both (stored or refused): a revocation before would prove nothing.
    const fate = async (msgId: string) => {
      for (let i = 0; i < 200; i++) {
        const [dead] = await db.owner<{ reason: string }[]>`SELECT reason FROM dead_letters WHERE msg_id = ${msgId}`;
        if (dead) return dead.reason;
        if ((await db.owner`SELECT 1 FROM records WHERE id = ${msgId}`).length) return 'stored';
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`record ${msgId} was neither stored nor dead-lettered`);
    };
    const fates = [await fate(id), await fate(inBatch.id)];

    expect((await api('DELETE', `/api/users/${viewer.id}`, admin)).status).toBe(204);
    expect(await db.owner`SELECT 1 FROM data_keys WHERE id = ${future.id}`).toHaveLength(0);
    for (const f of fates) expect(f).toMatch(/whose window begins after the vault received it/);
    const live = await db.owner<{ id: string }[]>`SELECT id FROM data_keys WHERE retired_at IS NULL`;
    for (const k of live) expect(copied.has(k.id)).toBe(false);
  });
});
