/**
 * Issue 15 item 1, end to end on real PostgreSQL and NATS: an org made with X-Wing (the default of
 * `coffer init`) takes records through ingest sealed under X-Wing record contexts, stores them, and
 * its key-admin reveals and exports them; an org made before suites (X25519, no configuration)
 * still reveals and exports; a database writer who changes or drops the signed suite, or a
 * submitter who seals in another suite than the bundle's, is refused by name.
 */
import { callVault, VaultRefused } from '@coffer/bus';
import type { Planes } from '@coffer/cli';
import { createClient } from '@coffer/client';
import {
  KEM_XWING,
  orgKeyWrapBinding,
  PrivateKey,
  PublicKey,
  parseRecordBlob,
  RecordSealingContext,
  recordBinding,
  seal,
  sessionTokenHash,
  signDataKeyBundle,
  unlockWithPassword,
  unwrapPrivateKey,
  unwrapWithSymmetricKey,
  userKeyAad,
  verifyDataKeyBundle,
} from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import type { VaultDatabase } from '@coffer/vault/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD as ADMIN, type AdminStack, call, signIn, startAdminStack } from './support/admin-stack.ts';
import { type InProcessPlanes, KA_EMAIL, KA_PASSWORD, startInProcessPlanes } from './support/in-process-planes.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

async function poll<T>(what: string, f: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 600; i++) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not seen in time`);
}

describe.skipIf(!available)('an X-Wing org, end to end', () => {
  let db: VaultDatabase;
  let t: InProcessPlanes;
  let planes: Planes;
  let admin: string;
  let who: { cookie: string; csrf: string };

  beforeAll(async () => {
    t = await startInProcessPlanes({ suite: 'xwing', dataKeyDays: 90, horizonDays: 90 });
    ({ db, planes } = t);
    admin = planes.adminUrl as string;
    const signin = await fetch(`${admin}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: KA_EMAIL, password: KA_PASSWORD }),
    });
    expect(signin.status).toBe(200);
    who = {
      cookie: (signin.headers.get('set-cookie') ?? '').split(';')[0] as string,
      csrf: ((await signin.json()) as { csrf: string }).csrf,
    };
  });
  afterAll(() => t?.close());

  const post = (path: string, body: unknown) =>
    fetch(`${admin}${path}`, {
      method: 'POST',
      headers: { cookie: who.cookie, 'x-coffer-csrf': who.csrf, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('seals through ingest under X-Wing contexts, stores them, and the key-admin reveals and exports them', async () => {
    const current = (await (await fetch(`${planes.ingestUrl}/v1/keys/current`)).json()) as {
      bundle: { id: string; suite?: string };
      signature: string;
    };
    expect(current.bundle.suite).toBe('xwing');
    // A verifier that reads X25519 alone refuses the bundle by name: it is never read as X25519.
    const root = PublicKey.fromBase64url('ed25519', planes.trustRoot);
    expect(() => verifyDataKeyBundle(root, current.bundle, current.signature)).toThrow(
      expect.objectContaining({ code: 'UnsupportedSuite' }),
    );

    const values = ['4111111111111111', 'the launch code', 'another secret'];
    const submitted: { id: string; value: string }[] = [];
    for (const [i, value] of values.entries()) {
      const res = await fetch(`${planes.ingestUrl}/v1/records`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: i === 0 ? 'pan' : 'secret', value }),
      });
      expect(res.status).toBe(202);
      submitted.push({ id: ((await res.json()) as { id: string }).id, value });
    }
    // Sealed by a backend client (@coffer/client), to the X-Wing bundle, as a single-shot v1 blob.
    const client = createClient({ ingest: planes.ingestUrl, trustRoot: planes.trustRoot });
    const sealed = await client.seal({ type: 'secret', value: 'sealed by the client' });
    expect(await client.submitSealed(sealed)).toMatchObject({ id: sealed.id });
    submitted.push({ id: sealed.id, value: 'sealed by the client' });

    for (const { id } of submitted) {
      await poll(`record ${id}`, async () =>
        (await db.owner`SELECT 1 FROM records WHERE id = ${id}`).length ? true : undefined,
      );
    }
    const rows = await db.owner<{ id: string; sealed: Buffer; enc: Buffer | null }[]>`
      SELECT r.id, r.sealed, c.enc FROM records r LEFT JOIN record_contexts c ON c.id = r.context_id`;
    for (const row of rows) {
      expect(parseRecordBlob(row.sealed, ['xwing']).suite.kem).toBe(KEM_XWING);
      if (row.id !== sealed.id) expect(row.enc?.length).toBe(1120);
    }

    for (const { id, value } of submitted) {
      const res = await post(`/api/records/${id}/reveal`, { reason: 'x-wing end to end' });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ id, value });
    }
    const csv = await (await post('/api/exports', { reason: 'x-wing end to end export' })).text();
    for (const { id, value } of submitted) {
      expect(csv).toContain(`${id},`);
      expect(csv).toContain(value);
    }
  });

  it('exports more records than one page holds: each X-Wing context enc travels once a page', async () => {
    const [key] = await db.owner<{ id: string; public_key: string }[]>`
      SELECT id, public_key FROM data_keys WHERE not_before <= now() AND now() < not_after`;
    if (!key) throw new Error('no current data key');
    // 1,200 records under one context, as ingest seals them: with its 1,120-byte enc on each
    // record, a page of 1,000 would be past the bus's 1 MiB message limit.
    const context = RecordSealingContext.create(PublicKey.fromBase64url('xwing', key.public_key), key.id);
    await db.owner`INSERT INTO record_contexts (id, data_key_id, enc) VALUES (${context.contextId}, ${key.id}, ${context.enc})`;
    const rows = Array.from({ length: 1200 }, (_, i) => {
      const id = newRecordId();
      return {
        id,
        type: 'secret',
        data_key_id: key.id,
        context_id: context.contextId,
        sealed: context.seal(id, 'secret', Buffer.from(`bulk ${i}`)),
        hint: null,
        submitted_at: new Date(),
      };
    });
    context.destroy();
    await db.owner`INSERT INTO records ${db.owner(rows)}`;
    const res = await post('/api/exports', { reason: 'x-wing export past one page' });
    expect(res.status).toBe(200);
    const csv = await res.text();
    for (const i of [0, 999, 1000, 1199]) expect(csv).toContain(`,bulk ${i},`);
  });

  it('refuses a value sealed in another suite than its bundle names (422 suite-mismatch)', async () => {
    const current = (await (await fetch(`${planes.ingestUrl}/v1/keys/current`)).json()) as { bundle: { id: string } };
    const id = newRecordId();
    // An X25519 key of the submitter's own: the blob names X25519, the current data key is X-Wing.
    const blob = seal(
      PrivateKey.generate('x25519').publicKey,
      Buffer.from('x'),
      recordBinding(id, 'secret', current.bundle.id),
    );
    const res = await fetch(`${planes.ingestUrl}/v1/sealed-records`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id,
        type: 'secret',
        keyId: current.bundle.id,
        sealed: blob.toString('base64'),
        hint: null,
      }),
    });
    expect(res.status).toBe(422);
    expect(((await res.json()) as { type: string }).type).toContain('suite-mismatch');
    expect(await db.owner`SELECT 1 FROM records WHERE id = ${id}`).toHaveLength(0);
  });

  it('pre-generates X-Wing keys; a database writer who changes or drops the suite is refused', async () => {
    const made = await post('/api/keys/pregenerate', { count: 1 });
    expect(made.status).toBe(201);
    expect(((await made.json()) as { items: { suite?: string }[] }).items[0]?.suite).toBe('xwing');

    const [org] = await db.owner<
      { config: unknown; config_signature: string }[]
    >`SELECT config, config_signature FROM org`;
    const downgrade = async () => {
      const before = await db.owner`SELECT count(*)::int AS n FROM data_keys`;
      const res = await post('/api/keys/pregenerate', { count: 1 });
      expect(res.status).toBe(409);
      expect(((await res.json()) as { type: string }).type).toContain('suite-refused');
      expect(await db.owner`SELECT count(*)::int AS n FROM data_keys`).toEqual(before);
    };
    // The suite field changed, the org-key signature kept.
    await db.owner`UPDATE org SET config = jsonb_set(config, '{suite}', '"x25519"')`;
    await downgrade();
    // The configuration dropped: the newest org-signed data key is X-Wing, so this is no old org.
    await db.owner`UPDATE org SET config = NULL, config_signature = NULL`;
    await downgrade();
    await db.owner`UPDATE org SET config = ${db.owner.json(org?.config as never)}, config_signature = ${org?.config_signature ?? null}`;
    expect((await post('/api/keys/pregenerate', { count: 1 })).status).toBe(201);
  });
});

describe.skipIf(!available)('an org made before suites (X25519, no configuration)', () => {
  let stack: AdminStack;

  beforeAll(async () => {
    stack = await startAdminStack({ suite: 'x25519' });
    // As the row of an org initialised before migration 015: no signed configuration at all.
    await stack.db.owner`UPDATE org SET config = NULL, config_signature = NULL`;
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('still reveals and exports its records of both formats, and keeps minting X25519 keys', async () => {
    const records = [
      [await stack.addRecord('secret', 'old single-shot', null, 1), 'old single-shot'],
      [await stack.addRecord('secret', 'old context', null, 2), 'old context'],
    ] as const;
    const auth = await signIn(stack.app);
    for (const [id, value] of records) {
      const res = await call(stack.app, auth, 'POST', `/api/records/${id}/reveal`, { reason: 'old org still opens' });
      expect(res.json()).toMatchObject({ id, value });
    }
    const csv = await call(stack.app, auth, 'POST', '/api/exports', { reason: 'old org still exports' });
    for (const [, value] of records) expect(csv.body).toContain(value);
    const made = await call(stack.app, auth, 'POST', '/api/keys/pregenerate', { count: 1 });
    expect(made.statusCode).toBe(201);
    expect(made.json().items[0].suite).toBeUndefined();
  });
});

describe.skipIf(!available)('the vault refuses data keys of another suite than the org signed', () => {
  let stack: AdminStack;
  beforeAll(async () => {
    stack = await startAdminStack({ suite: 'xwing' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('keys.store with an org-signed X25519 key for an X-Wing org: refused, nothing stored', async () => {
    // What a compromised admin host could do: it holds the org key through a key-admin's session.
    const a = stack.ceremony.request.admin;
    const { kek } = await unlockWithPassword(ADMIN, a.passwordVerifier);
    // The first key-admin of an X-Wing org holds an X-Wing key.
    const userKey = unwrapWithSymmetricKey(
      'xwing',
      kek,
      Buffer.from(a.wrappedPrivateKey, 'base64'),
      userKeyAad(a.id, 1),
    );
    const copy = stack.ceremony.request.orgKeyCopies.find((c) => c.recipientId === a.id);
    const { orgKeyId } = stack.ceremony.request.org;
    const orgKey = unwrapPrivateKey(
      'ed25519',
      userKey,
      Buffer.from(copy?.wrapped ?? '', 'base64'),
      orgKeyWrapBinding(orgKeyId, a.id),
    );
    const bundle = {
      id: newRecordId(),
      publicKey: PrivateKey.generate('x25519').publicKey.toBase64url(),
      notBefore: new Date(Date.now() + 200 * 86_400_000).toISOString(),
      notAfter: new Date(Date.now() + 290 * 86_400_000).toISOString(),
    };
    const auth = await signIn(stack.app);
    const before = await stack.db.owner`SELECT count(*)::int AS n FROM data_keys`;
    const stored = callVault(stack.adminBus, 'keys.store', {
      v: 1,
      session: sessionTokenHash(auth.token),
      dataKeys: [{ bundle, signature: signDataKeyBundle(orgKey, bundle), copies: [] }],
      origin: 'test',
    });
    await expect(stored).rejects.toBeInstanceOf(VaultRefused);
    await expect(stored).rejects.toMatchObject({ detail: expect.stringContaining("not the org's suite xwing") });
    expect(await stack.db.owner`SELECT count(*)::int AS n FROM data_keys`).toEqual(before);
  });
});
