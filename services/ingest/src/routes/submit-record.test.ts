import { BusUnavailableError } from '@coffer/bus';
import { openRecord } from '@coffer/crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type IngestUnderTest, startIngestForTest } from '../../testing/ingest-under-test.ts';
import { BODY_LIMIT } from '../app.ts';

const PAN = '4111 1111 1111 1111';
let ingest: IngestUnderTest;

beforeAll(async () => {
  ingest = await startIngestForTest({ ratePerMinute: 10_000 });
});
afterAll(() => ingest.close());

function post(payload: unknown, headers: Record<string, string> = {}) {
  return ingest.inject({
    method: 'POST',
    url: '/v1/records',
    headers: { 'content-type': 'application/json', ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}

describe('POST /v1/records', () => {
  it.each([
    ['pan', PAN, '4111111111111111', '1111'],
    ['ssn', '123456789', '123-45-6789', '6789'],
    ['secret', 'correct horse battery staple', 'correct horse battery staple', null],
  ])('accepts a %s: 202 after the bus took it, sealed to the current key', async (type, value, normalized, hint) => {
    const before = ingest.stored.length;
    const res = await post({ type, value });
    expect(res.statusCode).toBe(202);
    const body = res.json();
    expect(body).toEqual({ id: expect.any(String), type, hint, keyId: ingest.keyId });
    const message = ingest.stored[before];
    expect(ingest.stored).toHaveLength(before + 1);
    expect(message).toMatchObject({ v: 3, id: body.id, type, hint, keyId: ingest.keyId });
    const sealed = Buffer.from(message?.sealed ?? '', 'base64');
    expect(sealed.includes(Buffer.from(normalized))).toBe(false);
    const contextEnc = Buffer.from(message?.contextEnc ?? '', 'base64');
    const opened = openRecord(ingest.dataKey, sealed, { recordId: body.id, type, dataKeyId: ingest.keyId, contextEnc });
    expect(opened.toString()).toBe(normalized);
  });

  it.each([
    ['a Luhn-invalid PAN', { type: 'pan', value: '4111111111111112' }, 'invalid-value', 'pan.luhn'],
    ['a PAN as a JSON number', { type: 'pan', value: 4111111111111111 }, 'invalid-value', 'value.type'],
    ['an SSN in area 666', { type: 'ssn', value: '666-12-3456' }, 'invalid-value', 'ssn.area'],
    ['an empty secret', { type: 'secret', value: '' }, 'invalid-value', 'secret.empty'],
    ['an unknown type', { type: 'iban', value: 'DE89370400440532013000' }, 'invalid-body', undefined],
    ['an unknown field', { type: 'pan', value: PAN, note: 'x' }, 'invalid-body', undefined],
    ['a missing value', { type: 'pan' }, 'invalid-body', undefined],
    ['an array body', [{ type: 'pan', value: PAN }], 'invalid-body', undefined],
  ])('refuses %s with a 400 problem and stores nothing', async (_name, payload, type, rule) => {
    const before = ingest.stored.length;
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 400, type: `urn:coffer:problem:${type}`, ...(rule ? { rule } : {}) });
    expect(ingest.stored).toHaveLength(before);
  });

  it('never echoes a value in a problem, even a malformed body', async () => {
    for (const payload of ['{"type":"pan","value":"4111111111111112"}', '{"type":"pan","value":4111111111111111x}']) {
      const res = await post(payload);
      expect(res.statusCode).toBe(400);
      expect(res.body).not.toContain('411111111111111');
    }
  });

  it.each([
    ['a lone 0xff byte', [0xff]],
    ['a truncated two-byte sequence', [0xc3]],
    ['an overlong encoding of "/"', [0xc0, 0xaf]],
    ['an encoded surrogate', [0xed, 0xa0, 0x80]],
  ])('refuses a secret holding invalid UTF-8 (%s) with 400, stores nothing, echoes nothing', async (_name, bytes) => {
    const before = ingest.stored.length;
    const payload = Buffer.concat([
      Buffer.from('{"type":"secret","value":"marker-'),
      Buffer.from(bytes),
      Buffer.from('-end"}'),
    ]);
    const res = await ingest.inject({
      method: 'POST',
      url: '/v1/records',
      headers: { 'content-type': 'application/json' },
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: 400, type: 'urn:coffer:problem:invalid-encoding' });
    expect(res.body).not.toContain('marker');
    expect(ingest.stored).toHaveLength(before);
  });

  it('names the header when an Idempotency-Key is too long, and never the value', async () => {
    const res = await post({ type: 'secret', value: 'x' }, { 'idempotency-key': `k${'q'.repeat(300)}` });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ type: 'urn:coffer:problem:invalid-header', field: 'idempotency-key' });
    expect(res.json().detail).toMatch(/^header idempotency-key: .*255/);
    expect(res.body).not.toContain('qqqq');
  });

  it('lists the allowed types when the type is unknown', async () => {
    const res = await post({ type: 'iban', value: 'DE89370400440532013000' });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toBe('body /type: must be equal to one of the allowed values (pan, ssn, secret)');
  });

  it('answers 413 above 16 KiB and 415 for a body that is not JSON', async () => {
    const big = await post({ type: 'secret', value: 'x'.repeat(BODY_LIMIT) });
    expect(big.statusCode).toBe(413);
    expect(big.json().type).toBe('urn:coffer:problem:body-too-large');
    const text = await ingest.inject({
      method: 'POST',
      url: '/v1/records',
      headers: { 'content-type': 'text/plain' },
      payload: PAN,
    });
    expect(text.statusCode).toBe(415);
    expect(text.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('gives the same id for the same Idempotency-Key and body, and 422 for another body', async () => {
    const before = ingest.stored.length;
    const headers = { 'idempotency-key': 'order-7781-attempt' };
    const first = await post({ type: 'pan', value: PAN }, headers);
    const again = await post({ type: 'pan', value: '4111-1111-1111-1111' }, headers);
    expect(first.statusCode).toBe(202);
    expect(again.statusCode).toBe(202);
    expect(again.json().id).toBe(first.json().id);
    expect(ingest.stored).toHaveLength(before + 1);
    const other = await post({ type: 'pan', value: '5555555555554444' }, headers);
    expect(other.statusCode).toBe(422);
    expect(ingest.stored).toHaveLength(before + 1);
  });

  it('turns an ambiguous failure plus a retry with the same Idempotency-Key into exactly one record', async () => {
    const before = ingest.stored.length;
    const publish = ingest.bus.publishRecord.bind(ingest.bus);
    // The stream stores the record, then the acknowledgement is lost.
    const spy = vi.spyOn(ingest.bus, 'publishRecord').mockImplementationOnce(async (id, data) => {
      await publish(id, data);
      throw new BusUnavailableError('PubAck lost');
    });
    const headers = { 'idempotency-key': 'ambiguous-1' };
    const first = await post({ type: 'ssn', value: '123-45-6789' }, headers);
    expect(first.statusCode).toBe(503);
    const retry = await post({ type: 'ssn', value: '123-45-6789' }, headers);
    expect(retry.statusCode).toBe(202);
    expect(ingest.stored).toHaveLength(before + 1);
    expect(ingest.stored.at(-1)?.id).toBe(retry.json().id);
    spy.mockRestore();
  });

  it('sends strict security headers', async () => {
    const res = await post({ type: 'secret', value: 'headers' });
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
  });

  it('keeps values out of its logs', () => {
    const logs = ingest.logs.join('\n');
    expect(logs.length).toBeGreaterThan(0);
    for (const v of ['4111111111111111', '4111 1111 1111 1111', '123-45-6789', '123456789', 'correct horse']) {
      expect(logs).not.toContain(v);
    }
  });
});

describe('rate limit and unavailable key', () => {
  it('answers 429 past the per-minute limit', async () => {
    const limited = await startIngestForTest({ ratePerMinute: 3 });
    try {
      const codes = [];
      for (let i = 0; i < 5; i++) {
        const res = await limited.inject({
          method: 'POST',
          url: '/v1/records',
          headers: { 'content-type': 'application/json' },
          payload: { type: 'secret', value: `s${i}` },
        });
        codes.push(res.statusCode);
      }
      expect(codes).toEqual([202, 202, 202, 429, 429]);
    } finally {
      await limited.close();
    }
  });

  it('refuses to seal with a bundle signed by another key: 503 and one alert line', async () => {
    const forged = await startIngestForTest({ signWithOtherKey: true });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await forged.inject({
          method: 'POST',
          url: '/v1/records',
          headers: { 'content-type': 'application/json' },
          payload: { type: 'pan', value: PAN },
        });
        expect(res.statusCode).toBe(503);
        expect(res.json().type).toBe('urn:coffer:problem:no-verified-key');
      }
      expect(forged.stored).toHaveLength(0);
      expect(forged.logs.filter((l) => l.includes('"alert":"data-key"'))).toHaveLength(1);
      expect((await forged.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    } finally {
      await forged.close();
    }
  });

  it('answers 503 when the bus is down and stores nothing', async () => {
    const down = await startIngestForTest();
    await down.bus.close();
    const res = await down.inject({
      method: 'POST',
      url: '/v1/records',
      headers: { 'content-type': 'application/json' },
      payload: { type: 'pan', value: PAN },
    });
    expect(res.statusCode).toBe(503);
    expect(res.json().type).toBe('urn:coffer:problem:bus-unavailable');
    expect(down.stored).toHaveLength(0);
    await down.close();
  });
});
