import { dataKeyWrapBinding, PrivateKey, PublicKey, sessionTokenHash, wrapPrivateKey } from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

type Session = Awaited<ReturnType<typeof signIn>>;

describe.skipIf(!available)('tampered records and keys: a named error, an audited failure, never output', () => {
  let stack: AdminStack;
  let auth: Session;
  let adminId: string;
  let dataKeyId: string;

  beforeAll(async () => {
    stack = await startAdminStack();
    auth = await signIn(stack.app);
    adminId = stack.ceremony.request.admin.id;
    dataKeyId = stack.ceremony.request.dataKeys[0]?.bundle.id as string;
  });
  afterAll(() => stack?.close());

  const reveal = (id: string, session: Session = auth) =>
    stack.app.inject({
      method: 'POST',
      url: `/api/records/${id}/reveal`,
      headers: { cookie: session.cookie, 'x-coffer-csrf': session.csrf },
      payload: { reason: 'integrity check after a suspected tamper' },
    });

  /** The reveal fails by name, is audited as a failure with that name, and shows no value. */
  async function expectIntegrityFailure(id: string, values: string[], error = 'DecryptionFailed', session = auth) {
    const res = await reveal(id, session);
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ type: 'urn:coffer:problem:record-integrity', status: 500, error });
    expect(res.json()).not.toHaveProperty('value');
    for (const value of values) {
      expect(res.body).not.toContain(value);
      expect(res.body).not.toContain(Buffer.from(value).toString('base64'));
      expect(res.body).not.toContain(Buffer.from(value).toString('hex'));
    }
    const [event] = await stack.db.owner`SELECT * FROM audit_events ORDER BY seq DESC LIMIT 1`;
    expect(event).toMatchObject({
      actor: adminId,
      action: 'record.reveal',
      target: id,
      outcome: 'failure',
      details: { error },
    });
  }

  /** Replace the admin's wrapped copy of the data key for one test, then put it back. */
  async function withUserDataKeyCopy(wrapped: Buffer, run: () => Promise<void>) {
    const [original] = await stack.db.owner<{ wrapped: Buffer }[]>`SELECT wrapped FROM wrapped_keys
      WHERE key_kind = 'data' AND key_id = ${dataKeyId} AND recipient_kind = 'user' AND recipient_id = ${adminId}`;
    if (!original) throw new Error('the admin holds no copy of the data key');
    const set = (w: Buffer) => stack.db.owner`UPDATE wrapped_keys SET wrapped = ${w}
      WHERE key_kind = 'data' AND key_id = ${dataKeyId} AND recipient_kind = 'user' AND recipient_id = ${adminId}`;
    await set(wrapped);
    try {
      await run();
    } finally {
      await set(original.wrapped);
    }
  }

  it('sanity: an untouched record opens', async () => {
    const id = await stack.addRecord('pan', '5500005555555559');
    const res = await reveal(id);
    expect(res.statusCode).toBe(200);
    expect(res.json().value).toBe('5500005555555559');
  });

  it.each([
    ['the encapsulated key', 10],
    ['the ciphertext', 45],
    ['the GCM tag (last byte)', -1],
  ])('a flipped byte in %s of records.sealed → DecryptionFailed', async (_where, offset) => {
    const value = `4000056655665556-${offset}`;
    const id = await stack.addRecord('secret', value);
    const [row] = await stack.db.owner<{ n: number }[]>`SELECT length(sealed) AS n FROM records WHERE id = ${id}`;
    const at = offset < 0 ? (row?.n ?? 0) + offset : offset;
    await stack.db.owner`UPDATE records SET sealed = set_byte(sealed, ${at}, get_byte(sealed, ${at}) # 1)
      WHERE id = ${id}`;
    await expectIntegrityFailure(id, [value]);
  });

  it('a wrong format version or a truncated blob is refused by name', async () => {
    const v = await stack.addRecord('secret', 'version-flip-secret');
    // Version 2 is a real format now (record contexts); 3 is one no build reads yet.
    await stack.db.owner`UPDATE records SET sealed = set_byte(sealed, 0, 3) WHERE id = ${v}`;
    await expectIntegrityFailure(v, ['version-flip-secret'], 'UnsupportedVersion');
    const t = await stack.addRecord('secret', 'truncated-secret');
    await stack.db.owner`UPDATE records SET sealed = substring(sealed FROM 1 FOR 40) WHERE id = ${t}`;
    await expectIntegrityFailure(t, ['truncated-secret'], 'Truncated');
  });

  it("a record pointed at another record context's stored key → DecryptionFailed", async () => {
    const id = await stack.addRecord('secret', 'context-swap-secret', null, 2);
    expect((await reveal(id)).json().value).toBe('context-swap-secret');
    const [row] = await stack.db.owner`SELECT context_id FROM records WHERE id = ${id}`;
    expect(row?.context_id).not.toBeNull();
    const fake = crypto.randomUUID();
    await stack.db.owner`INSERT INTO record_contexts (id, data_key_id, enc)
      SELECT ${fake}, data_key_id, decode(repeat('09', 32), 'hex') FROM record_contexts WHERE id = ${row?.context_id}`;
    await stack.db.owner`UPDATE records SET context_id = ${fake} WHERE id = ${id}`;
    await expectIntegrityFailure(id, ['context-swap-secret']);
  });

  it("record A's sealed blob copied into record B's row → DecryptionFailed (the AAD binds the record id)", async () => {
    const a = await stack.addRecord('pan', '4242424242424242');
    const b = await stack.addRecord('pan', '4000000000000002');
    await stack.db.owner`UPDATE records SET sealed = (SELECT sealed FROM records WHERE id = ${a}) WHERE id = ${b}`;
    await expectIntegrityFailure(b, ['4242424242424242', '4000000000000002']);
    // A itself still opens.
    expect((await reveal(a)).json().value).toBe('4242424242424242');
  });

  it("a record's type changed (pan → ssn) → DecryptionFailed (the AAD binds the type)", async () => {
    const b = await stack.addRecord('pan', '4111111111111111');
    await stack.db.owner`UPDATE records SET type = 'ssn' WHERE id = ${b}`;
    await expectIntegrityFailure(b, ['4111111111111111']);
  });

  it("the user's wrapped data key replaced by the wrapped copy of another data key → DecryptionFailed", async () => {
    const value = '378282246310005';
    const id = await stack.addRecord('pan', value);
    const adminPublic = PublicKey.fromBase64url('x25519', stack.ceremony.request.admin.publicKey);
    // Another data key's copy for this admin: the ceremony's second key if it made one, else a new one.
    const other = stack.ceremony.request.dataKeys[1]?.copies.find((c) => c.recipientId === adminId);
    const otherCopy = other
      ? Buffer.from(other.wrapped, 'base64')
      : wrapPrivateKey(PrivateKey.generate('x25519'), adminPublic, dataKeyWrapBinding(newRecordId(), adminId));
    await withUserDataKeyCopy(otherCopy, () => expectIntegrityFailure(id, [value]));
    // Even bound to this data key's id (anyone can wrap to the admin's public key), the wrong key opens nothing.
    const rebound = wrapPrivateKey(PrivateKey.generate('x25519'), adminPublic, dataKeyWrapBinding(dataKeyId, adminId));
    await withUserDataKeyCopy(rebound, () => expectIntegrityFailure(id, [value]));
    expect((await reveal(id)).json().value).toBe(value);
  });

  it("the user's wrapped data key replaced by the recovery key's copy of the same data key → DecryptionFailed", async () => {
    const value = '078-05-1120';
    const id = await stack.addRecord('ssn', value);
    const [recovery] = await stack.db.owner<{ wrapped: Buffer }[]>`SELECT wrapped FROM wrapped_keys
      WHERE key_kind = 'data' AND key_id = ${dataKeyId} AND recipient_kind = 'recovery'`;
    expect(recovery).toBeDefined();
    await withUserDataKeyCopy(recovery?.wrapped as Buffer, () => expectIntegrityFailure(id, [value]));
  });

  it("the session's wrapped key replaced by another session's of the same user → DecryptionFailed", async () => {
    const value = 'session-swap: correct horse battery staple';
    const id = await stack.addRecord('secret', value);
    const other = await signIn(stack.app);
    const mine = sessionTokenHash(auth.token);
    const [original] = await stack.db.owner<{ wrapped_key: Buffer }[]>`SELECT wrapped_key FROM sessions
      WHERE token_hash = ${mine}`;
    await stack.db.owner`UPDATE sessions SET wrapped_key = (SELECT wrapped_key FROM sessions
      WHERE token_hash = ${sessionTokenHash(other.token)}) WHERE token_hash = ${mine}`;
    try {
      await expectIntegrityFailure(id, [value]);
    } finally {
      await stack.db.owner`UPDATE sessions SET wrapped_key = ${original?.wrapped_key as Buffer}
        WHERE token_hash = ${mine}`;
    }
    // The other session's own key still works for it, and ours works again once restored.
    expect((await reveal(id, other)).json().value).toBe(value);
    expect((await reveal(id)).json().value).toBe(value);
  });

  it('the audit chain still verifies after all of the above (the tampering was of data, not of the log)', async () => {
    const res = await stack.app.inject({ method: 'GET', url: '/api/audit/verify', headers: { cookie: auth.cookie } });
    expect(res.json()).toMatchObject({ ok: true });
  });
});
