import { open, recordBinding, seal } from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import { v4, v7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestUnderTest, startIngestForTest } from '../../testing/ingest-under-test.ts';

let ingest: IngestUnderTest;
beforeAll(async () => {
  ingest = await startIngestForTest({ ratePerMinute: 10_000 });
});
afterAll(() => ingest.close());

function sealed(type: 'pan' | 'ssn' | 'secret', value: string, options: { id?: string; keyId?: string } = {}) {
  const id = options.id ?? newRecordId();
  const keyId = options.keyId ?? ingest.keyId;
  const blob = seal(ingest.dataKey.publicKey, Buffer.from(value), recordBinding(id, type, keyId));
  const hint = type === 'secret' ? null : value.slice(-4);
  return { id, type, keyId, sealed: blob.toString('base64'), hint };
}

function post(payload: unknown, headers: Record<string, string> = {}) {
  return ingest.inject({
    method: 'POST',
    url: '/v1/sealed-records',
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(payload),
  });
}

describe('POST /v1/sealed-records', () => {
  it.each([
    ['pan', '4111111111111111'],
    ['ssn', '123-45-6789'],
    ['secret', 'correct horse battery staple'],
  ] as const)('accepts a sealed %s and publishes it as a v2 message sealed by the client', async (type, value) => {
    const before = ingest.stored.length;
    const body = sealed(type, value);
    const res = await post(body, { 'idempotency-key': v7() });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ id: body.id, type, hint: body.hint, keyId: ingest.keyId });
    expect(res.headers['access-control-allow-origin']).toBe('*');
    const message = ingest.stored[before];
    expect(ingest.stored).toHaveLength(before + 1);
    expect(message).toMatchObject({
      v: 2,
      sealedBy: 'client',
      id: body.id,
      type,
      hint: body.hint,
      sealed: body.sealed,
    });
    const blob = Buffer.from(message?.sealed ?? '', 'base64');
    expect(open(ingest.dataKey, blob, recordBinding(body.id, type, ingest.keyId)).toString()).toBe(value);
  });

  it('takes a retry with the same body and Idempotency-Key, and stores the record once', async () => {
    const before = ingest.stored.length;
    const body = sealed('pan', '4000056655665556');
    const key = v7();
    expect((await post(body, { 'idempotency-key': key })).statusCode).toBe(202);
    expect((await post(body, { 'idempotency-key': key })).statusCode).toBe(202);
    await new Promise((r) => setTimeout(r, 50));
    expect(ingest.stored.slice(before).map((m) => m.id)).toEqual([body.id]);
  });

  it.each([
    ['without an Idempotency-Key', {}, {}],
    ['with another Idempotency-Key', { 'idempotency-key': 'first' }, { 'idempotency-key': 'second' }],
  ])('refuses a replayed record id %s with 409', async (_name, first, second) => {
    const body = sealed('ssn', '123-45-6789');
    expect((await post(body, first)).statusCode).toBe(202);
    const before = ingest.stored.length;
    const replay = await post(body, second);
    expect(replay.statusCode).toBe(409);
    expect(replay.json()).toMatchObject({ type: 'urn:coffer:problem:record-id-replayed' });
    // A replay with another body under the first key is refused too.
    const changed = { ...sealed('ssn', '123-45-6780', { id: body.id }) };
    expect((await post(changed, first)).statusCode).toBe(409);
    await new Promise((r) => setTimeout(r, 50));
    expect(ingest.stored).toHaveLength(before);
  });

  const old = v7({ msecs: Date.now() - 10 * 60_000 });
  const ahead = v7({ msecs: Date.now() + 10 * 60_000 });
  const pan = (extra: Record<string, unknown>) => ({ ...sealed('pan', '4111111111111111'), ...extra });
  it.each([
    ['a UUIDv4 id', () => pan({ id: v4() }), 400, 'invalid-body'],
    ['an upper-case id', () => pan({ id: newRecordId().toUpperCase() }), 400, 'invalid-body'],
    ['an id that is not a uuid', () => pan({ id: '1; DROP TABLE records' }), 400, 'invalid-body'],
    ['an id ten minutes old', () => sealed('pan', '4111111111111111', { id: old }), 400, 'stale-record-id'],
    ['an id ten minutes ahead', () => sealed('pan', '4111111111111111', { id: ahead }), 400, 'stale-record-id'],
    ['an unknown key id', () => sealed('pan', '4111111111111111', { keyId: newRecordId() }), 422, 'unknown-key'],
    ['a pan blob too long', () => sealed('pan', '41111111111111111111'), 400, 'sealed-size'],
    ['an ssn blob too short', () => ({ ...sealed('ssn', '123456789') }), 400, 'sealed-size'],
    ['a secret blob over 4096 bytes', () => sealed('secret', 'x'.repeat(4097)), 400, 'sealed-size'],
    ['a blob of another version', () => pan({ sealed: Buffer.alloc(75, 2).toString('base64') }), 400, 'invalid-sealed'],
    [
      'a blob cut short',
      () => pan({ sealed: Buffer.from([1, 0, 0x20, 0, 1, 0, 2]).toString('base64') }),
      400,
      'invalid-sealed',
    ],
    ['non-canonical base64', () => pan({ sealed: 'AQ=' }), 400, 'invalid-sealed'],
    ['a pan without a hint', () => pan({ hint: null }), 400, 'invalid-hint'],
    ['a secret with a hint', () => ({ ...sealed('secret', 'abc'), hint: '1234' }), 400, 'invalid-hint'],
    // The vault dead-letters an SSN hint 0000 (never issued): refused here, before any 202.
    ['an ssn with the hint 0000', () => ({ ...sealed('ssn', '123-45-6789'), hint: '0000' }), 400, 'invalid-hint'],
    ['a hint that is not four digits', () => pan({ hint: '11111' }), 400, 'invalid-body'],
    ['an unknown field', () => pan({ value: '4111111111111111' }), 400, 'invalid-body'],
  ])('refuses %s with an RFC 9457 problem and stores nothing', async (_name, make, status, type) => {
    const before = ingest.stored.length;
    const res = await post(make(), { 'idempotency-key': v7() });
    expect(res.statusCode).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status, type: `urn:coffer:problem:${type}` });
    await new Promise((r) => setTimeout(r, 20));
    expect(ingest.stored).toHaveLength(before);
  });

  it('answers a CORS preflight for the browser SDK, without credentials', async () => {
    const res = await ingest.inject({
      method: 'OPTIONS',
      url: '/v1/sealed-records',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type, idempotency-key',
    });
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    const key = await ingest.inject({ method: 'GET', url: '/v1/keys/current' });
    expect(key.headers['access-control-expose-headers']).toBe('Date, Retry-After');
  });
});

describe('POST /v1/sealed-records rate limit', () => {
  it('answers 429 past the per-client rate and publishes nothing for it', async () => {
    const limited = await startIngestForTest({ ratePerMinute: 2 });
    try {
      const send = () => {
        const id = newRecordId();
        const blob = seal(
          limited.dataKey.publicKey,
          Buffer.from('123-45-6789'),
          recordBinding(id, 'ssn', limited.keyId),
        );
        return limited.inject({
          method: 'POST',
          url: '/v1/sealed-records',
          headers: { 'content-type': 'application/json' },
          payload: { id, type: 'ssn', keyId: limited.keyId, sealed: blob.toString('base64'), hint: '6789' },
        });
      };
      expect((await send()).statusCode).toBe(202);
      expect((await send()).statusCode).toBe(202);
      const third = await send();
      expect(third.statusCode).toBe(429);
      expect(third.json()).toMatchObject({ type: 'urn:coffer:problem:rate-limited' });
      await new Promise((r) => setTimeout(r, 50));
      expect(limited.stored).toHaveLength(2);
    } finally {
      await limited.close();
    }
  });
});
