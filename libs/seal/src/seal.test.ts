/**
 * The SDK's code under Node's WebCrypto and @hpke/core, against libs/crypto: bundles signed by
 * libs/crypto verify here (and nothing else does), and record blobs cross both ways for every
 * type. The same code in Chromium is tests/seal-sdk.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { open, PrivateKey, recordBinding, seal, signDataKeyBundle } from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import { describe, expect, it } from 'vitest';
import { openRecord, sealRecord } from './blob.ts';
import { importTrustRoot, verifyBundle } from './bundle.ts';
import { connect, type SealError } from './index.ts';

const VALUES = [
  ['pan', '4111 1111 1111 1111', '4111111111111111', '1111'],
  ['ssn', '123456789', '123-45-6789', '6789'],
  ['secret', 'correct horse ✓ battery', 'correct horse ✓ battery', null],
] as const;

function signedBundle(org: PrivateKey<'ed25519'>, data: PrivateKey<'x25519'>, from: number, to: number) {
  const bundle = {
    id: newRecordId(),
    publicKey: data.publicKey.toBase64url(),
    notBefore: new Date(from).toISOString(),
    notAfter: new Date(to).toISOString(),
  };
  return { bundle, signature: signDataKeyBundle(org, bundle) };
}

/** A fetch that serves one signed bundle and records every POST. */
function fakeIngest(signed: unknown, answers: number[] = [202]) {
  const posts: { url: string; body: string; key: string | null }[] = [];
  const fetchFn = (async (url: string, init?: RequestInit) => {
    if (!init?.method) return Response.json(signed, { headers: { date: new Date().toUTCString() } });
    posts.push({ url, body: String(init.body), key: new Headers(init.headers).get('idempotency-key') });
    const status = answers.shift() ?? 202;
    return Response.json(status === 202 ? JSON.parse(String(init.body)) : { status }, { status });
  }) as typeof fetch;
  return { fetchFn, posts };
}

describe('@coffer/seal under Node', () => {
  const org = PrivateKey.generate('ed25519');
  const data = PrivateKey.generate('x25519');
  const now = Date.now();
  const good = signedBundle(org, data, now - 60_000, now + 3_600_000);

  it.each(VALUES)(
    'seals a %s that libs/crypto opens to the normalised value',
    async (type, value, normalized, hint) => {
      const ingest = fakeIngest(good);
      const coffer = connect({
        ingest: 'http://ingest.test',
        trustRoot: org.publicKey.toBase64url(),
        fetch: ingest.fetchFn,
      });
      const sealed = await coffer.seal({ type, value });
      expect(sealed).toMatchObject({ type, keyId: good.bundle.id, hint });
      expect(sealed.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const blob = Buffer.from(sealed.sealed, 'base64');
      expect(open(data, blob, recordBinding(sealed.id, type, good.bundle.id)).toString()).toBe(normalized);
      // Bound to the record: another id or type does not open.
      expect(() => open(data, blob, recordBinding(newRecordId(), type, good.bundle.id))).toThrow();
    },
  );

  it.each(VALUES)('opens a %s sealed by libs/crypto with @hpke/core', async (type, _value, normalized) => {
    const raw = randomBytes(32);
    const key = PrivateKey.fromBytes('x25519', raw);
    const id = newRecordId();
    const blob = seal(key.publicKey, Buffer.from(normalized), recordBinding(id, type, 'key-1'));
    const opened = await openRecord(raw, blob, { recordId: id, type, keyId: 'key-1' });
    expect(Buffer.from(opened).toString()).toBe(normalized);
    await expect(openRecord(raw, blob, { recordId: id, type, keyId: 'key-2' })).rejects.toThrow();
    // And the other way on the same key: the header and layout are the same bytes.
    const mine = await sealRecord(key.publicKey.bytes(), Buffer.from(normalized), { recordId: id, type, keyId: 'k' });
    expect(Buffer.from(mine.subarray(0, 7))).toEqual(blob.subarray(0, 7));
    expect(mine.length).toBe(blob.length);
  });

  it('refuses a bundle signed by another key, an expired one, a future one and a malformed one', async () => {
    const root = await importTrustRoot(org.publicKey.toBase64url());
    const foreign = signedBundle(PrivateKey.generate('ed25519'), data, now - 60_000, now + 60_000);
    const expired = signedBundle(org, data, now - 120_000, now - 60_000);
    const future = signedBundle(org, data, now + 60_000, now + 120_000);
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'accepted',
        (e: SealError) => e.code,
      );
    expect(await codeOf(verifyBundle(root, foreign, now))).toBe('BadSignature');
    expect(await codeOf(verifyBundle(root, expired, now))).toBe('KeyExpired');
    expect(await codeOf(verifyBundle(root, future, now))).toBe('KeyExpired');
    expect(await codeOf(verifyBundle(root, { ...good, bundle: { ...good.bundle, extra: 1 } }, now))).toBe(
      'InvalidBundle',
    );
    const swapped = { ...good, bundle: { ...good.bundle, id: newRecordId() } };
    expect(await codeOf(verifyBundle(root, swapped, now))).toBe('BadSignature');
    expect(await codeOf(verifyBundle(root, good, now))).toBe('accepted');
  });

  it('sends nothing when the bundle does not verify or the value is invalid', async () => {
    const foreign = signedBundle(PrivateKey.generate('ed25519'), data, now - 60_000, now + 60_000);
    const ingest = fakeIngest(foreign);
    const coffer = connect({
      ingest: 'http://ingest.test',
      trustRoot: org.publicKey.toBase64url(),
      fetch: ingest.fetchFn,
    });
    await expect(coffer.seal({ type: 'pan', value: '4111 1111 1111 1111' })).rejects.toMatchObject({
      code: 'BadSignature',
    });
    await expect(coffer.seal({ type: 'pan', value: '4111 1111 1111 1112' })).rejects.toMatchObject({
      code: 'InvalidValue',
      rule: 'pan.luhn',
    });
    expect(ingest.posts).toHaveLength(0);
  });

  it('retries 429 and 503 with the same Idempotency-Key, and names a refusal', async () => {
    const ingest = fakeIngest(good, [503, 429, 202, 400]);
    const coffer = connect({
      ingest: 'http://ingest.test/',
      trustRoot: org.publicKey.toBase64url(),
      fetch: ingest.fetchFn,
      retry: { baseMs: 1 },
    });
    const sealed = await coffer.seal({ type: 'ssn', value: '123-45-6789' });
    expect(await coffer.submit(sealed)).toMatchObject({ id: sealed.id });
    expect(ingest.posts.map((p) => p.url)).toEqual(Array(3).fill('http://ingest.test/v1/sealed-records'));
    expect(new Set(ingest.posts.map((p) => p.key))).toEqual(new Set([sealed.idempotencyKey]));
    expect(JSON.parse(ingest.posts[0]?.body ?? '')).toEqual({
      id: sealed.id,
      type: 'ssn',
      keyId: good.bundle.id,
      sealed: sealed.sealed,
      hint: '6789',
    });
    await expect(coffer.submit(sealed)).rejects.toMatchObject({ code: 'Refused', status: 400 });
  });
});

describe('@coffer/seal with an X-Wing bundle', () => {
  const org = PrivateKey.generate('ed25519');
  const data = PrivateKey.generate('xwing');
  const now = Date.now();
  const bundle = {
    id: newRecordId(),
    suite: 'xwing' as const,
    publicKey: data.publicKey.toBase64url(),
    notBefore: new Date(now - 60_000).toISOString(),
    notAfter: new Date(now + 3_600_000).toISOString(),
  };
  const good = { bundle, signature: signDataKeyBundle(org, bundle) };
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => 'accepted',
      (e: SealError) => e.code,
    );

  it.each(VALUES)('seals a %s with X-Wing, which libs/crypto opens', async (type, value, normalized) => {
    const coffer = connect({
      ingest: 'http://ingest.test',
      trustRoot: org.publicKey.toBase64url(),
      fetch: fakeIngest(good).fetchFn,
    });
    const sealed = await coffer.seal({ type, value });
    const blob = Buffer.from(sealed.sealed, 'base64');
    expect(blob.readUInt16BE(1)).toBe(0x647a);
    expect(blob.length).toBe(1143 + Buffer.byteLength(normalized));
    expect(open(data, blob, recordBinding(sealed.id, type, bundle.id)).toString()).toBe(normalized);
  });

  it('opens an X-Wing blob sealed by libs/crypto with @hpke/core and @hpke/hybridkem-x-wing', async () => {
    const raw = randomBytes(32);
    const key = PrivateKey.fromBytes('xwing', raw);
    const id = newRecordId();
    const blob = seal(key.publicKey, Buffer.from('secret'), recordBinding(id, 'secret', 'key-1'));
    expect(Buffer.from(await openRecord(raw, blob, { recordId: id, type: 'secret', keyId: 'key-1' })).toString()).toBe(
      'secret',
    );
  });

  it('refuses a relabelled suite (BadSignature) and a suite it does not know (UnsupportedSuite)', async () => {
    const root = await importTrustRoot(org.publicKey.toBase64url());
    expect(await codeOf(verifyBundle(root, good, now))).toBe('accepted');
    const { suite: _dropped, ...asV1 } = bundle;
    expect(await codeOf(verifyBundle(root, { ...good, bundle: asV1 }, now))).toBe('InvalidBundle');
    expect(await codeOf(verifyBundle(root, { ...good, bundle: { ...bundle, suite: 'x25519' } }, now))).toBe(
      'InvalidBundle',
    );
    expect(await codeOf(verifyBundle(root, { ...good, bundle: { ...bundle, suite: 'kyber-9000' } }, now))).toBe(
      'UnsupportedSuite',
    );
  });
});
