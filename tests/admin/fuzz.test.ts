// Property-based fuzzing of the admin HTTP surface (fast-check), unauthenticated and signed in as
// a key-admin, on a real vault, database and NATS. A fixed seed and a modest count run in the
// suite; `pnpm fuzz` runs far more (COFFER_FUZZ_RUNS, COFFER_FUZZ_SEED). Whatever arrives: never
// a 5xx, and a refusal never carries back a string the request sent.
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, type Signed, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const RUNS = Number(process.env.COFFER_FUZZ_RUNS ?? 150);
const SEED = Number(process.env.COFFER_FUZZ_SEED ?? 20_261_202);

// Words of the API's own vocabulary: a refusal may name them, so they are not "echoes".
const VOCABULARY = ['pan', 'ssn', 'secret', 'viewer', 'auditor', 'key-admin', 'application/json'];
// Path parameters include NUL and every other code unit (issue 9 items 11/15): a bad id is a 400.
const pathText = fc.oneof(
  fc.string({ maxLength: 70, unit: 'binary' }),
  fc.uuid().map((u) => `${u.slice(0, 35)}\u0000`),
  fc.constantFrom('\u0000', '%00', '..', '.', '%2e%2e', '\u202e'),
);
const text = fc.oneof(
  fc.constantFrom(...VOCABULARY),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom('a', '\u202e', '\n', '"', '\\', '\ud800', '@'), maxLength: 12 }),
  fc.uuid(),
  fc.constantFrom('2024-13-01T00:00:00Z', '2024-02-30T00:00:00.000Z', '9999-12-31T23:59:59.999Z', '0'),
);
const anyJson = fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 3 }));
const body = fc.oneof(
  fc.dictionary(
    fc.constantFrom(
      'email',
      'password',
      'role',
      'reason',
      'type',
      'from',
      'to',
      'count',
      'token',
      'code',
      'fingerprint',
      'totp',
      'x',
    ),
    anyJson,
    { maxKeys: 4 },
  ),
  anyJson,
);
const numeric = fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String), fc.constantFrom('501', '0', '1e3', '-1'));
const query = fc.dictionary(
  fc.constantFrom('type', 'before', 'after', 'limit', 'from', 'to', 'x'),
  fc.oneof(text, numeric),
  {
    maxKeys: 3,
  },
);

type Method = 'GET' | 'POST' | 'DELETE';
// Every route of the admin API. Signing out and changing the password are fuzzed anonymously only,
// so the signed-in session survives the run.
const routes: readonly [Method, string, boolean][] = [
  ['GET', '/api/me', true],
  ['GET', '/api/audit', true],
  ['GET', '/api/audit/verify', true],
  ['POST', '/api/exports', true],
  ['GET', '/api/keys', true],
  ['POST', '/api/keys/pregenerate', true],
  ['GET', '/api/records', true],
  ['GET', '/api/records/search', true],
  ['GET', '/api/audit/events', true],
  ['GET', '/api/users', true],
  ['POST', '/api/users/:id/reinvite', true],
  ['POST', '/api/users/:id/enrol-code', true],
  ['POST', '/api/records/:id/reveal', true],
  ['POST', '/api/session', true],
  ['DELETE', '/api/session', false],
  ['POST', '/api/me/password', false],
  ['POST', '/api/me/totp', true],
  ['POST', '/api/me/totp/verify', true],
  ['POST', '/api/users', true],
  ['POST', '/api/invites/accept', true],
  ['POST', '/api/users/:id/confirm', true],
  ['DELETE', '/api/users/:id', true],
  ['POST', '/api/users/:id/reset', true],
  ['GET', '/api/nothing-here', true],
];

const request = fc.record({
  route: fc.constantFrom(...routes),
  who: fc.constantFrom('anonymous', 'key-admin', 'key-admin without CSRF', 'forged cookie'),
  id: fc.oneof(fc.uuid(), pathText),
  query,
  body: fc.option(body, { nil: undefined }),
});

/** Strings of 6+ characters the request carried, outside the API's own vocabulary. */
function sentStrings(...parts: unknown[]): string[] {
  const found: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === 'string' && v.length >= 6 && !VOCABULARY.includes(v)) found.push(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  for (const p of parts) walk(p);
  return found;
}

describe.skipIf(!available)('fuzzing the admin API', () => {
  let stack: AdminStack;
  let admin: Signed;
  beforeAll(async () => {
    stack = await startAdminStack();
    await stack.addRecord('ssn', '078-05-1120');
    admin = await signIn(stack.app);
  });
  afterAll(() => stack?.close());

  it(`never answers 5xx and never echoes what it refuses (${RUNS} runs, seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ route, who, id, query: q, body: payload }) => {
        const [method, template, signedInToo] = route;
        const asWho = signedInToo ? who : 'anonymous';
        const path = template.replace(':id', encodeURIComponent(id));
        const search = new URLSearchParams(q).toString();
        const headers: Record<string, string> = {};
        if (asWho !== 'anonymous') headers.cookie = asWho === 'forged cookie' ? '__Host-coffer=forged' : admin.cookie;
        if (asWho === 'key-admin' || asWho === 'forged cookie') headers['x-coffer-csrf'] = admin.csrf;
        if (payload !== undefined) headers['content-type'] = 'application/json';
        const res = await stack.app.inject({
          method,
          url: search ? `${path}?${search}` : path,
          headers,
          ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
        });
        expect(res.statusCode, `${method} ${path}: ${res.body.slice(0, 200)}`).toBeLessThan(500);
        if (res.statusCode >= 400) {
          for (const s of sentStrings(payload, q, id)) expect(res.body).not.toContain(s);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
