/**
 * Issue 15 item 1 for people, on real PostgreSQL and NATS: in an X-Wing org the first key-admin,
 * the recovery key and every person enrolled hold X-Wing keys, their certificates name the suite
 * and every data key reaches them X-Wing-wrapped, so a copied database holds no X25519 path to a
 * record. In an org moved from X25519 to X-Wing, the X25519 people keep revealing (old keys and
 * wraps stay readable), a new person gets X-Wing, and a reset re-keys a person to X-Wing; their
 * old X25519 row restored from a backup gets nothing. A person's key swapped for an X25519 one
 * (the certificate kept) is no recipient.
 */
import { callVault } from '@coffer/bus';
import {
  enrollPassword,
  KEM_XWING,
  PrivateKey,
  PublicKey,
  parseSealedBlob,
  recordBinding,
  seal,
  sessionTokenHash,
  userCertificateOf,
  userKeyAad,
  verifyUserCertificate,
  wrapWithSymmetricKey,
} from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, enrolUser, type Signed, signIn, startAdminStack } from './support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const STRONG = 'violet-harbour-quasar-4471-gently';
const XWING_KEY_LENGTH = 1622; // base64url of a 1,216-byte X-Wing public key

type Row = { id: string; public_key: string; certificate_signature: string; role: 'viewer' };
const rowOf = async (stack: AdminStack, id: string) =>
  (
    await stack.db.owner<Row[]>`SELECT id, public_key, certificate_signature, role FROM users WHERE id = ${id}`
  )[0] as Row;
/** The KEM of every data-key copy wrapped to this person. */
const copyKems = async (stack: AdminStack, id: string) =>
  (
    await stack.db.owner<{ wrapped: Buffer }[]>`
      SELECT wrapped FROM wrapped_keys WHERE key_kind = 'data' AND recipient_id = ${id}`
  ).map((c) => parseSealedBlob(c.wrapped).suite.kem);

async function reveal(stack: AdminStack, who: Signed, id: string) {
  const res = await call(stack.app, who, 'POST', `/api/records/${id}/reveal`, { reason: 'x-wing people test' });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().value as string;
}

/** A value sealed (single-shot) to the current data key, stored as the vault stores it. */
async function recordUnderCurrentKey(stack: AdminStack, value: string): Promise<string> {
  const [key] = await stack.db.owner<{ id: string; public_key: string; suite: string }[]>`
    SELECT id, public_key, COALESCE(bundle->>'suite', 'x25519') AS suite FROM data_keys
    WHERE not_before <= ${stack.now()} ORDER BY not_before DESC LIMIT 1`;
  if (!key) throw new Error('no current key');
  const id = newRecordId();
  const sealed = seal(
    PublicKey.fromBase64url(key.suite as 'x25519' | 'xwing', key.public_key),
    Buffer.from(value),
    recordBinding(id, 'secret', key.id),
  );
  await stack.db.owner`INSERT INTO records (id, type, data_key_id, sealed, hint, submitted_at)
    VALUES (${id}, 'secret', ${key.id}, ${sealed}, NULL, ${stack.now()})`;
  return id;
}

describe.skipIf(!available)('an X-Wing org: every person and the recovery key are X-Wing', () => {
  let stack: AdminStack;
  let admin: Signed;
  beforeAll(async () => {
    stack = await startAdminStack({ suite: 'xwing' });
    admin = await signIn(stack.app);
  });
  afterAll(() => stack?.close());

  it('a new person gets an X-Wing key, certified as xwing, X-Wing wraps, and reveals', async () => {
    const [org] = await stack.db.owner<{ recovery_public_key: string }[]>`SELECT recovery_public_key FROM org`;
    expect(org?.recovery_public_key).toHaveLength(XWING_KEY_LENGTH);
    const first = await rowOf(stack, stack.ceremony.request.admin.id);
    expect(first.public_key).toHaveLength(XWING_KEY_LENGTH);
    expect(new Set(await copyKems(stack, first.id))).toEqual(new Set([KEM_XWING]));

    const recordId = await stack.addRecord('secret', 'sealed under an X-Wing context', null, 2);
    const { id } = await enrolUser(stack.app, admin, 'pq-viewer@example.com', 'viewer', STRONG);
    const row = await rowOf(stack, id);
    expect(row.public_key).toHaveLength(XWING_KEY_LENGTH);
    const root = PublicKey.fromBase64url('ed25519', stack.ceremony.trustRoot);
    const cert = verifyUserCertificate(
      root,
      userCertificateOf({ ...row, publicKey: row.public_key }),
      row.certificate_signature,
      ['x25519', 'xwing'],
    );
    expect(cert).toMatchObject({ suite: 'xwing', key: expect.objectContaining({ kind: 'xwing' }) });
    // A client that reads X25519 certificates alone refuses it by name, never as X25519.
    expect(() =>
      verifyUserCertificate(root, userCertificateOf({ ...row, publicKey: row.public_key }), row.certificate_signature),
    ).toThrow(expect.objectContaining({ code: 'UnsupportedSuite' }));
    const kems = await copyKems(stack, id);
    expect(kems.length).toBeGreaterThan(0);
    expect(new Set(kems)).toEqual(new Set([KEM_XWING]));

    const viewer = await signIn(stack.app, 'pq-viewer@example.com', STRONG);
    expect(await reveal(stack, viewer, recordId)).toBe('sealed under an X-Wing context');
  });

  it("a person's X-Wing key swapped for an X25519 one, certificate kept, gets no new data key", async () => {
    const { id } = await enrolUser(stack.app, admin, 'swapped@example.com', 'viewer', STRONG);
    const row = await rowOf(stack, id);
    // The swap a database writer could make: an X25519 key of theirs where the certified X-Wing key was.
    const x25519 = PrivateKey.generate('x25519').publicKey.toBase64url();
    await stack.db.owner`UPDATE users SET public_key = ${x25519} WHERE id = ${id}`;
    const made = await call(stack.app, admin, 'POST', '/api/keys/pregenerate', { count: 1 });
    expect(made.statusCode, made.body).toBe(201);
    expect(made.json().skippedRecipients).toBe(1);
    const newKey = made.json().items[0].id as string;
    expect(
      await stack.db.owner`SELECT 1 FROM wrapped_keys WHERE key_id = ${newKey} AND recipient_id = ${id}`,
    ).toHaveLength(0);
    await stack.db.owner`UPDATE users SET public_key = ${row.public_key} WHERE id = ${id}`;
  });
  it('the vault refuses an X25519 key for an invitee of an X-Wing org (an older or compromised admin plane)', async () => {
    const invite = await call(stack.app, admin, 'POST', '/api/users', {
      email: 'downgraded@example.com',
      role: 'viewer',
    });
    const { id, inviteToken } = invite.json();
    const inviteHash = sessionTokenHash(inviteToken);
    const looked = await callVault(stack.adminBus, 'invites.lookup', { v: 1, inviteHash });
    // What a build that knows no X-Wing people would send: an X25519 key, properly wrapped.
    const key = PrivateKey.generate('x25519');
    const { verifier, kek } = await enrollPassword(STRONG);
    const wrapped = wrapWithSymmetricKey(key, kek, userKeyAad(id, looked.keyVersion));
    const accept = callVault(stack.adminBus, 'invites.accept', {
      v: 1,
      inviteHash,
      keyVersion: looked.keyVersion,
      verifier,
      publicKey: key.publicKey.toBase64url(),
      wrappedPrivateKey: wrapped.toString('base64'),
      origin: 'test',
    });
    await expect(accept).rejects.toMatchObject({ code: 'conflict', detail: expect.stringContaining('x25519 key') });
    const [row] = await stack.db.owner<{ status: string; public_key: string | null }[]>`
      SELECT status, public_key FROM users WHERE id = ${id}`;
    expect(row).toEqual({ status: 'invited', public_key: null });
    // Through this admin plane the same invite makes an X-Wing key.
    const accepted = await call(stack.app, undefined, 'POST', '/api/invites/accept', {
      token: inviteToken,
      password: STRONG,
    });
    expect(accepted.statusCode).toBe(200);
    expect((await rowOf(stack, id)).public_key).toHaveLength(XWING_KEY_LENGTH);
  });
});

describe.skipIf(!available)('an org moved from X25519 to X-Wing: old people keep working, new keys are X-Wing', () => {
  let stack: AdminStack;
  let admin: Signed;
  beforeAll(async () => {
    stack = await startAdminStack({ suite: 'x25519' });
    admin = await signIn(stack.app);
  });
  afterAll(() => stack?.close());

  it('X25519 and X-Wing people reveal side by side; a reset re-keys to X-Wing; the old row restored gets nothing', async () => {
    const oldRecord = await stack.addRecord('secret', 'sealed to X25519', null, 2);
    const { id: oldId } = await enrolUser(stack.app, admin, 'old@example.com', 'viewer', STRONG);
    const oldRow = await rowOf(stack, oldId);
    expect(oldRow.public_key).toHaveLength(43);

    expect((await call(stack.app, admin, 'POST', '/api/org/suite', { suite: 'xwing' })).statusCode).toBe(200);
    expect((await call(stack.app, admin, 'POST', '/api/keys/rotate')).statusCode).toBe(201);
    const newRecord = await recordUnderCurrentKey(stack, 'sealed to X-Wing');

    // The X25519 person: an X-Wing data key wrapped to their X25519 key still opens.
    const old = await signIn(stack.app, 'old@example.com', STRONG);
    expect(await reveal(stack, old, oldRecord)).toBe('sealed to X25519');
    expect(await reveal(stack, old, newRecord)).toBe('sealed to X-Wing');

    // A person enrolled now is X-Wing, and holds the org's older X25519 keys X-Wing-wrapped too.
    const { id: newId } = await enrolUser(stack.app, admin, 'new@example.com', 'viewer', STRONG);
    expect((await rowOf(stack, newId)).public_key).toHaveLength(XWING_KEY_LENGTH);
    expect(new Set(await copyKems(stack, newId))).toEqual(new Set([KEM_XWING]));
    const fresh = await signIn(stack.app, 'new@example.com', STRONG);
    expect(await reveal(stack, fresh, oldRecord)).toBe('sealed to X25519');
    expect(await reveal(stack, fresh, newRecord)).toBe('sealed to X-Wing');

    // The people list says who still holds an X25519 key.
    const people = (await call(stack.app, admin, 'GET', '/api/users')).json().items as {
      id: string;
      keySuite: string;
    }[];
    expect(people.find((p) => p.id === oldId)?.keySuite).toBe('x25519');
    expect(people.find((p) => p.id === newId)?.keySuite).toBe('xwing');

    // A reset re-keys the X25519 person: their next key is X-Wing.
    const reset = await call(stack.app, admin, 'POST', `/api/users/${oldId}/reset`);
    expect(reset.statusCode).toBe(200);
    const accepted = await call(stack.app, undefined, 'POST', '/api/invites/accept', {
      token: reset.json().inviteToken,
      password: `${STRONG}-again`,
    });
    expect(accepted.statusCode).toBe(200);
    const confirmed = await call(stack.app, admin, 'POST', `/api/users/${oldId}/confirm`, {
      fingerprint: accepted.json().fingerprint,
    });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect((await rowOf(stack, oldId)).public_key).toHaveLength(XWING_KEY_LENGTH);
    expect(new Set(await copyKems(stack, oldId))).toEqual(new Set([KEM_XWING]));
    const rekeyed = await signIn(stack.app, 'old@example.com', `${STRONG}-again`);
    expect(await reveal(stack, rekeyed, oldRecord)).toBe('sealed to X25519');
    expect(await reveal(stack, rekeyed, newRecord)).toBe('sealed to X-Wing');

    // Their old X25519 key and certificate restored from a backup: on the signed revocation list,
    // so a new data key goes to the other people and not to that key.
    await stack.db.owner`UPDATE users SET public_key = ${oldRow.public_key},
      certificate_signature = ${oldRow.certificate_signature} WHERE id = ${oldId}`;
    const made = await call(stack.app, admin, 'POST', '/api/keys/pregenerate', { count: 1 });
    expect(made.statusCode, made.body).toBe(201);
    expect(made.json().skippedRecipients).toBe(1);
    const newKey = made.json().items[0].id as string;
    const holders = await stack.db.owner<{ recipient_id: string }[]>`
      SELECT recipient_id FROM wrapped_keys WHERE key_id = ${newKey} AND recipient_kind = 'user'`;
    expect(holders.map((h) => h.recipient_id).sort()).toEqual([stack.ceremony.request.admin.id, newId].sort());
  }, 120_000);
});
