/**
 * Issue 15, item 3, the test the issue asks for: an org made as X25519 holds 10,000 records; a
 * key-admin moves the org to X-Wing (a signed org configuration, version 2), rotates to an X-Wing
 * current key and runs `coffer reseal --suite x25519`, interrupted once and resumed. Afterwards
 * every record is under the X-Wing key with its value unchanged, every X25519 key is destroyed
 * (no row, no wrapped copy, no record context) and the run is audited with its counts. The vault
 * refuses a configuration that does not verify under the trust root, an old one replayed, and a
 * move back to X25519.
 */
import { createHash } from 'node:crypto';
import { callVault } from '@coffer/bus';
import { runReseal } from '@coffer/cli';
import {
  PrivateKey,
  PublicKey,
  RecordOpeningContext,
  RecordSealingContext,
  sessionTokenHash,
  signOrgConfig,
} from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type AdminStack,
  call,
  type Signed,
  signIn,
  startAdminStack,
} from '../support/admin-stack.ts';
import { dataKeyOf, userKeyOf } from '../support/user-keys.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const COUNT = 10_000;
const PER_CONTEXT = 500;

describe.skipIf(!available)('coffer reseal --suite x25519 after moving the org to X-Wing (issue 15, item 3)', () => {
  let stack: AdminStack;
  let admin: Signed;
  let adminUrl: string;
  const values = new Map<string, string>();

  beforeAll(async () => {
    stack = await startAdminStack({ suite: 'x25519' });
    admin = await signIn(stack.app);
    adminUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });
    await insertRecords(stack, values);
  }, 60_000);
  afterAll(() => stack?.close());

  it('moves 10,000 records from X25519 to X-Wing, values unchanged, and destroys the old keys', async () => {
    const db = stack.db.owner;
    const [before] = await db<{ config: unknown; config_signature: string }[]>`
      SELECT config, config_signature FROM org`;
    const session = sessionTokenHash(admin.token);
    const store = (config: unknown, signature: string) =>
      callVault(stack.adminBus, 'org.config.store', { v: 1, session, config: config as never, signature, origin: 't' });

    // Not signed by the org key (a bus that saw the session hash): the vault refuses it.
    const orgKeyId = stack.ceremony.request.org.orgKeyId;
    const forged = { v: 2 as const, orgKeyId, suite: 'xwing' as const, version: 2 };
    const refusal = (p: Promise<unknown>) =>
      p.then(
        () => 'stored',
        (err: { code?: string }) => err.code,
      );
    expect(await refusal(store(forged, signOrgConfig(PrivateKey.generate('ed25519'), forged)))).toBe('bad-signature');

    // A key-admin moves the org to X-Wing; a move back is refused by the admin plane and the vault.
    const moved = await call(stack.app, admin, 'POST', '/api/org/suite', { suite: 'xwing' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toMatchObject({ suite: 'xwing', version: 2, changed: true, from: 'x25519' });
    expect((await call(stack.app, admin, 'POST', '/api/org/suite', { suite: 'x25519' })).statusCode).toBe(409);
    // The org's first (X25519) configuration is validly signed, but older: replayed, it is refused.
    expect(await refusal(store(before?.config, before?.config_signature ?? ''))).toBe('conflict');
    const [after] = await db<{ config: { suite: string; version: number } }[]>`SELECT config FROM org`;
    expect(after?.config).toMatchObject({ v: 2, suite: 'xwing', version: 2 });

    // New keys are X-Wing: rotate to an X-Wing current key.
    const x25519Keys = (
      await db<{ id: string }[]>`SELECT id FROM data_keys WHERE COALESCE(bundle->>'suite', 'x25519') = 'x25519'`
    ).map((k) => k.id);
    expect((await call(stack.app, admin, 'POST', '/api/keys/rotate')).statusCode).toBe(201);
    stack.advance(11 * 60 * 1000); // past the settle period of the superseded key

    // Interrupted after one batch, then resumed by `coffer reseal --suite x25519`.
    const begun = await call(stack.app, admin, 'POST', '/api/reseal', { suite: 'x25519' });
    expect(begun.json()).toMatchObject({ remaining: COUNT });
    const first = await call(stack.app, admin, 'POST', `/api/reseal/${begun.json().runId}/step`, { limit: 500 });
    expect(first.json()).toMatchObject({ moved: 500, remaining: COUNT - 500, done: false });
    const result = await runReseal({
      adminUrl,
      email: ADMIN_EMAIL,
      password: ADMIN_PASSWORD,
      suite: 'x25519',
      ratePerSecond: 1_000_000,
      batch: 500,
    });
    expect(result).toMatchObject({ runId: begun.json().runId, moved: COUNT - 500, destroyedKeys: x25519Keys.length });

    // Every X25519 key is gone, with its wrapped copies and record contexts.
    expect(await db`SELECT 1 FROM data_keys WHERE id = ANY(${x25519Keys})`).toHaveLength(0);
    expect(await db`SELECT 1 FROM wrapped_keys WHERE key_id = ANY(${x25519Keys})`).toHaveLength(0);
    expect(await db`SELECT 1 FROM record_contexts WHERE data_key_id = ANY(${x25519Keys})`).toHaveLength(0);
    expect(await db`SELECT 1 FROM record_context_encs WHERE data_key_id = ANY(${x25519Keys})`).toHaveLength(0);

    await expectValuesUnderXWing(stack, values);

    const audit = await db<{ action: string; details: Record<string, unknown> }[]>`
      SELECT action, details FROM audit_events WHERE action IN ('org.config', 'reseal.begin', 'reseal') ORDER BY seq`;
    expect(audit.map((a) => a.action)).toEqual(['org.config', 'reseal.begin', 'reseal']);
    expect(audit[0]?.details).toMatchObject({ fromSuite: 'x25519', suite: 'xwing', version: 2 });
    expect(audit[2]?.details).toMatchObject({ records: COUNT, destroyedKeys: x25519Keys.length });
    // Nothing is left to do: no key of that suite.
    expect((await call(stack.app, admin, 'POST', '/api/reseal', { suite: 'x25519' })).statusCode).toBe(404);

    // A database writer who puts the org's first (X25519, validly signed) configuration back gets
    // no X25519 key: the newest key is X-Wing, so pre-generation refuses to downgrade.
    await db`UPDATE org SET config = ${db.json(before?.config as never)}, config_signature = ${before?.config_signature ?? ''}`;
    const restored = await call(stack.app, admin, 'POST', '/api/keys/pregenerate', { count: 1 });
    expect(restored.statusCode).toBe(409);
    expect(restored.json()).toMatchObject({ type: expect.stringContaining('suite-refused') });
  }, 110_000);
});

/** 10,000 records sealed to the ceremony's X25519 key, stored as the vault stores ingest's (format 2). */
async function insertRecords(stack: AdminStack, values: Map<string, string>): Promise<void> {
  const [dataKey] = stack.ceremony.request.dataKeys;
  if (!dataKey) throw new Error('no data key');
  const keyId = dataKey.bundle.id;
  const key = PublicKey.fromBase64url('x25519', dataKey.bundle.publicKey);
  const db = stack.db.owner;
  for (let start = 0; start < COUNT; start += PER_CONTEXT) {
    const context = RecordSealingContext.create(key, keyId);
    const encSha256 = createHash('sha256').update(context.enc).digest();
    await db`INSERT INTO record_contexts (id, data_key_id, enc) VALUES (${context.contextId}, ${keyId}, ${context.enc})`;
    await db`INSERT INTO record_context_encs (context_id, enc_sha256, data_key_id, enc)
      VALUES (${context.contextId}, ${encSha256}, ${keyId}, ${context.enc})`;
    const rows = [];
    for (let i = start; i < start + PER_CONTEXT; i++) {
      const id = newRecordId();
      const value = `value ${i} ${createHash('sha256').update(String(i)).digest('hex').slice(0, 12)}`;
      values.set(id, value);
      rows.push({
        id,
        type: 'secret',
        data_key_id: keyId,
        context_id: context.contextId,
        context_enc_sha256: encSha256,
        sealed: context.seal(id, 'secret', Buffer.from(value)),
        hint: null,
        submitted_at: stack.now(),
      });
    }
    context.destroy();
    await db`INSERT INTO records ${db(rows)}`;
  }
}

/** Open every record as the key-admin holds the keys: all under one X-Wing key, each value as stored. */
async function expectValuesUnderXWing(stack: AdminStack, values: Map<string, string>): Promise<void> {
  const db = stack.db.owner;
  const me = await userKeyOf(db, { email: ADMIN_EMAIL }, ADMIN_PASSWORD);
  const rows = await db<
    { id: string; data_key_id: string; suite: string; context_id: string; sealed: Buffer; enc: Buffer }[]
  >`
    SELECT r.id, r.data_key_id, d.bundle->>'suite' AS suite, r.context_id, r.sealed, ce.enc FROM records r
    JOIN data_keys d ON d.id = r.data_key_id
    JOIN record_context_encs ce ON ce.context_id = r.context_id AND ce.enc_sha256 = r.context_enc_sha256`;
  expect(rows).toHaveLength(COUNT);
  const keyIds = new Set(rows.map((r) => r.data_key_id));
  expect(keyIds.size).toBe(1);
  expect(new Set(rows.map((r) => r.suite))).toEqual(new Set(['xwing']));
  const [keyId] = keyIds;
  const [copy] = await db<{ wrapped: Buffer }[]>`
    SELECT wrapped FROM wrapped_keys WHERE key_kind = 'data' AND key_id = ${keyId as string} AND recipient_id = ${me.id}`;
  if (!copy || !keyId) throw new Error('no copy of the X-Wing key');
  const key = dataKeyOf('xwing', me, keyId, copy.wrapped);
  const contexts = new Map<string, RecordOpeningContext>();
  let same = 0;
  for (const r of rows) {
    let context = contexts.get(r.context_id);
    if (!context) {
      context = RecordOpeningContext.open(key, r.context_id, keyId, r.enc);
      contexts.set(r.context_id, context);
    }
    if (context.open(r.sealed, r.id, 'secret').toString('utf8') === values.get(r.id)) same++;
  }
  for (const c of contexts.values()) c.destroy();
  expect(same).toBe(COUNT);
}
