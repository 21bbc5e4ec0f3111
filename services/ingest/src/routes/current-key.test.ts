import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestUnderTest, startIngestForTest } from '../../testing/ingest-under-test.ts';

let ingest: IngestUnderTest;
beforeAll(async () => {
  ingest = await startIngestForTest();
});
afterAll(() => ingest.close());

describe('GET /v1/keys/current and health', () => {
  it('serves the signed bundle it verified', async () => {
    const res = await ingest.inject({ method: 'GET', url: '/v1/keys/current' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      bundle: { id: ingest.keyId, publicKey: ingest.dataKey.publicKey.toBase64url() },
      signature: expect.any(String),
    });
  });

  it('is live and ready with a verified key and a bus', async () => {
    expect((await ingest.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    const ready = await ingest.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready', bus: true, keyId: ingest.keyId });
  });

  it('answers unknown routes with a 404 problem', async () => {
    const res = await ingest.inject({ method: 'GET', url: '/v1/records' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
