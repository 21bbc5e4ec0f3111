import { BusUnavailableError } from '@coffer/bus';
import { openRecord } from '@coffer/crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type IngestUnderTest, startIngestForTest } from '../testing/ingest-under-test.ts';

let ingest: IngestUnderTest;
beforeAll(async () => {
  ingest = await startIngestForTest({ ratePerMinute: 100_000 });
});
afterAll(() => ingest.close());

const submit = (value: string) =>
  ingest.inject({
    method: 'POST',
    url: '/v1/records',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ type: 'secret', value }),
  });

describe('group commit', () => {
  it('publishes the records of concurrent requests as few stream messages, every one stored and openable', async () => {
    const before = { records: ingest.stored.length, messages: ingest.messages() };
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => submit(`value ${i}`)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(200).fill(202));
    await vi.waitFor(() => expect(ingest.stored.length).toBe(before.records + 200));
    const messages = ingest.messages() - before.messages;
    expect(messages).toBeGreaterThanOrEqual(1);
    expect(messages).toBeLessThan(200);
    const byId = new Map(ingest.stored.map((r) => [r.id, r]));
    for (const [i, a] of answers.entries()) {
      const r = byId.get(a.json().id);
      const opened = openRecord(ingest.dataKey, Buffer.from(r?.sealed ?? '', 'base64'), {
        recordId: a.json().id,
        type: 'secret',
        dataKeyId: ingest.keyId,
        contextEnc: Buffer.from(r?.contextEnc ?? '', 'base64'),
      });
      expect(opened.toString()).toBe(`value ${i}`);
    }
  });

  it('fails every request of a batch whose publish fails, and stores none of them', async () => {
    const before = ingest.stored.length;
    const spy = vi.spyOn(ingest.bus, 'publishRecord').mockRejectedValue(new BusUnavailableError('down'));
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => submit(`lost ${i}`)));
    spy.mockRestore();
    expect(answers.map((a) => a.statusCode)).toEqual(Array(20).fill(503));
    expect(spy.mock.calls.length).toBeLessThan(20);
    const ok = await submit('after');
    expect(ok.statusCode).toBe(202);
    await vi.waitFor(() => expect(ingest.stored.length).toBe(before + 1));
  });
});
