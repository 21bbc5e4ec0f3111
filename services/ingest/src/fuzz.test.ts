// Property-based fuzzing of POST /v1/records (fast-check). A fixed seed and a modest count run in
// the suite; `pnpm fuzz` runs far more (COFFER_FUZZ_RUNS, COFFER_FUZZ_SEED; a failure prints the
// seed and path to replay it). Whatever arrives: never a 5xx, never a byte of the submitted value
// in the answer, and nothing published unless the answer is 202 for a value the rules accept.
import { checkValue, RECORD_TYPES, type RecordType } from '@coffer/protocol';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IngestUnderTest, startIngestForTest } from '../testing/ingest-under-test.ts';

const RUNS = Number(process.env.COFFER_FUZZ_RUNS ?? 400);
const SEED = Number(process.env.COFFER_FUZZ_SEED ?? 20_261_202);

// Values that look like what the rules accept, and everything around them.
const digits = (min: number, max: number) =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((a) => a.join(''));
const separated = digits(12, 19).chain((d) =>
  fc
    .array(fc.constantFrom('', ' ', '-', '.', '\t', '\u00a0'), { minLength: d.length, maxLength: d.length })
    .map((seps) => [...d].map((c, i) => c + (seps[i] ?? '')).join('')),
);
const text = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 32 }),
  fc.string({ unit: fc.constantFrom('\ud800', '\udfff', 'a', '\u0000', '\u202e', '"', '\\'), maxLength: 16 }),
);
const value = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(digits(1, 24), separated, digits(9, 9), text) },
  { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.object()) },
  { weight: 1, arbitrary: fc.string({ minLength: 4000, maxLength: 4200 }) },
);
const type = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<string>(...RECORD_TYPES) },
  { weight: 1, arbitrary: text },
);
const jsonBody = fc
  .record({ type, value, extra: fc.jsonValue() }, { requiredKeys: [] })
  .map((b) => ({ kind: 'json' as const, body: b, payload: Buffer.from(JSON.stringify(b)) }));
// Bytes around a value: invalid UTF-8, truncated JSON, duplicate keys, a body of one number.
const rawBody = fc
  .tuple(
    fc.constantFrom(
      '{"type":"secret","value":"',
      '{"type":"pan","value":',
      '[',
      '{"type":"ssn","type":"pan","value":"',
      '',
    ),
    fc.uint8Array({ maxLength: 64 }),
    fc.constantFrom('"}', '}', '', '"', ']'),
  )
  .map(([head, bytes, tail]) => ({
    kind: 'raw' as const,
    body: undefined,
    payload: Buffer.concat([Buffer.from(head), Buffer.from(bytes), Buffer.from(tail)]),
  }));
const request = fc.record({
  body: fc.oneof({ weight: 4, arbitrary: jsonBody }, { weight: 1, arbitrary: rawBody }),
  contentType: fc.oneof(
    { weight: 6, arbitrary: fc.constant('application/json') },
    { weight: 1, arbitrary: fc.constantFrom('application/json; charset=utf-8', 'application/json; charset=latin1') },
    { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/jsonx') },
  ),
  idempotencyKey: fc.option(fc.oneof(fc.constantFrom('k1', 'k2'), fc.string({ maxLength: 300 })), { nil: undefined }),
});

/**
 * The strings a response must never contain: each string of 6+ characters the request carried in
 * its value, any extra field, the Idempotency-Key, or (for raw bytes) the whole body. The type is
 * left out: a known type is a word of the schema, which a refusal may name.
 */
function secretsOf(body: unknown, payload: Buffer, idempotencyKey: string | undefined): string[] {
  const found: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string' && v.length >= 6) found.push(v);
    else if (typeof v === 'number' && String(v).length >= 6) found.push(String(v));
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  if (body && typeof body === 'object') {
    const { type, ...rest } = body as Record<string, unknown>;
    if (!RECORD_TYPES.includes(type as RecordType)) walk(type);
    walk(rest);
  }
  if (idempotencyKey !== undefined && idempotencyKey.length >= 6) found.push(idempotencyKey);
  if (body === undefined && payload.length >= 6) found.push(payload.toString('latin1'));
  return found;
}

/** What a strict reader makes of raw bytes: the JSON they hold if they are UTF-8, else undefined. */
function strictParse(payload: Buffer): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return undefined;
  }
}

let ingest: IngestUnderTest;
beforeAll(async () => {
  ingest = await startIngestForTest({ ratePerMinute: 100_000_000 });
});
afterAll(() => ingest.close());

describe('fuzzing POST /v1/records', () => {
  it(`never answers 5xx, never echoes a value, publishes only what it accepts (${RUNS} runs, seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ body, contentType, idempotencyKey }) => {
        const before = ingest.stored.length;
        const headers: Record<string, string> = { 'content-type': contentType };
        if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
        let res: Awaited<ReturnType<IngestUnderTest['inject']>>;
        try {
          res = await ingest.inject({ method: 'POST', url: '/v1/records', headers, payload: body.payload });
        } catch (err) {
          // inject refuses header values Node would never send (a control character); not a server answer.
          if ((err as { code?: string }).code === 'ERR_INVALID_CHAR') return;
          throw err;
        }
        expect(res.statusCode).toBeLessThan(500);
        for (const s of secretsOf(body.body, body.payload, idempotencyKey)) expect(res.body).not.toContain(s);
        const published = ingest.stored.length - before;
        if (res.statusCode !== 202) {
          expect(published).toBe(0);
          return;
        }
        // Accepted: one record (none for a retried Idempotency-Key), and the rules agree.
        if (idempotencyKey === undefined) expect(published).toBe(1);
        else expect(published).toBeLessThanOrEqual(1);
        const b = (body.body ?? strictParse(body.payload)) as { type?: unknown; value?: unknown } | undefined;
        expect(b && RECORD_TYPES.includes(b.type as RecordType)).toBe(true);
        expect(checkValue(b?.type as RecordType, b?.value).ok).toBe(true);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
