/**
 * The at-rest threat model: someone holds a full database dump and every service's configuration,
 * but no password and no live session token. Nothing they can build from that opens a record or
 * unwraps a key, no secret the test knows appears in the dump or in the admin's logs, and a token
 * that was signed out or expired opens nothing even with the live system.
 */
import {
  dataKeyWrapBinding,
  deriveCsrfToken,
  deriveSessionKey,
  open,
  orgKeyWrapBinding,
  PrivateKey,
  recordBinding,
  sessionKeyAad,
  sessionTokenHash,
  unwrapPrivateKey,
  unwrapWithSymmetricKey,
  userKeyAad,
} from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, type AdminStack, signIn, startAdminStack } from './support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

type Session = Awaited<ReturnType<typeof signIn>>;
type Row = Record<string, unknown>;

const VALUES = {
  pan: '4916338506082832',
  ssn: '536-22-8954',
  secret: 'vault master: plinth-ocelot-29-gravel',
} as const;

/** Every string leaf (text, jsonb) and every bytea value, anywhere in the rows. */
function collect(value: unknown, strings: string[], blobs: Buffer[]): void {
  if (Buffer.isBuffer(value)) blobs.push(value);
  else if (typeof value === 'string') strings.push(value);
  else if (Array.isArray(value)) for (const v of value) collect(v, strings, blobs);
  else if (value && typeof value === 'object' && !(value instanceof Date)) {
    for (const v of Object.values(value)) collect(v, strings, blobs);
  }
}

/** Bytes a string might encode: itself, and each base64/base64url/hex piece of it. */
function decodings(s: string): Buffer[] {
  const out = [Buffer.from(s, 'utf8')];
  for (const part of s.split(/[^A-Za-z0-9+/=_-]+/)) {
    if (part.length < 16) continue;
    if (/^([0-9a-f]{2})+$/i.test(part)) out.push(Buffer.from(part, 'hex'));
    if (/^[A-Za-z0-9_-]+$/.test(part)) out.push(Buffer.from(part, 'base64url'));
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(part)) out.push(Buffer.from(part, 'base64'));
  }
  return out;
}

/** Every 32-byte window of every blob, deduplicated. */
function windows(blobs: Buffer[]): Buffer[] {
  const seen = new Map<string, Buffer>();
  for (const b of blobs) {
    for (let i = 0; i + 32 <= b.length; i++) seen.set(b.subarray(i, i + 32).toString('hex'), b.subarray(i, i + 32));
  }
  return [...seen.values()];
}

/** A secret in the encodings it could be stored or logged in. */
function forms(bytes: Buffer): Buffer[] {
  const text = [bytes.toString('hex'), bytes.toString('hex').toUpperCase(), bytes.toString('base64')];
  text.push(bytes.toString('base64url'), bytes.toString('base64').replace(/=+$/, ''));
  return [bytes, ...text.map((t) => Buffer.from(t))];
}

const attempt = (f: () => unknown) => {
  try {
    f();
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!available)('threat model: a database dump and the configuration open nothing', () => {
  let stack: AdminStack;
  let signedOut: Session;
  let live: Session;
  const ids: Record<string, string> = {};
  let tables: Record<string, Row[]>;
  let config: unknown;

  const reveal = (id: string, s: { cookie: string; csrf: string }) =>
    stack.app.inject({
      method: 'POST',
      url: `/api/records/${id}/reveal`,
      headers: { cookie: s.cookie, 'x-coffer-csrf': s.csrf },
      payload: { reason: 'threat model exercise' },
    });

  beforeAll(async () => {
    stack = await startAdminStack();
    for (const [type, value] of Object.entries(VALUES)) {
      ids[type] = await stack.addRecord(type as keyof typeof VALUES, value);
    }
    // One session used and signed out; one still live while the dump is taken.
    signedOut = await signIn(stack.app);
    for (const id of Object.values(ids)) expect((await reveal(id, signedOut)).statusCode).toBe(200);
    const out = await stack.app.inject({
      method: 'DELETE',
      url: '/api/session',
      headers: { cookie: signedOut.cookie, 'x-coffer-csrf': signedOut.csrf },
    });
    expect(out.statusCode).toBe(204);
    live = await signIn(stack.app);
    for (const id of Object.values(ids)) expect((await reveal(id, live)).statusCode).toBe(200);
    const csv = await stack.app.inject({
      method: 'POST',
      url: '/api/exports',
      headers: { cookie: live.cookie, 'x-coffer-csrf': live.csrf },
      payload: { reason: 'threat model export' },
    });
    expect(csv.statusCode).toBe(200);

    tables = {};
    const names = await stack.db.owner<{ table_name: string }[]>`SELECT table_name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`;
    for (const { table_name } of names)
      tables[table_name] = [...(await stack.db.owner`SELECT * FROM ${stack.db.owner(table_name)}`)];
    // What the services are configured with: database URLs, the bus, what `coffer init` sent.
    config = {
      databaseUrls: [stack.db.runtimeUrl, stack.db.ownerUrl],
      natsUrl: await natsForTests(),
      request: stack.ceremony.request,
      trustRoot: stack.ceremony.trustRoot,
      fingerprints: [stack.ceremony.adminFingerprint, stack.ceremony.recoveryFingerprint],
    };
  });
  afterAll(() => stack?.close());

  it('the dump holds the material an attacker would work from', () => {
    for (const t of ['org', 'users', 'sessions', 'wrapped_keys', 'data_keys', 'records', 'audit_events']) {
      expect(tables[t], t).toBeDefined();
    }
    expect(tables.records).toHaveLength(3);
    expect(tables.sessions).toHaveLength(1);
    expect(tables.wrapped_keys?.length).toBeGreaterThanOrEqual(4);
  });

  it('no password, token, CSRF value or revealed value appears in the dump or the admin logs, in any encoding', () => {
    const strings: string[] = [];
    const blobs: Buffer[] = [];
    collect(tables, strings, blobs);
    const dump = Buffer.concat([...strings.map((s) => Buffer.from(s)), ...blobs, Buffer.from(JSON.stringify(tables))]);
    const logs = Buffer.from(stack.logs.join(''));
    expect(stack.logs.length).toBeGreaterThan(10);
    const secrets: [string, Buffer][] = [
      ['admin password', Buffer.from(ADMIN_PASSWORD)],
      ...Object.entries(VALUES).map(([t, v]) => [`${t} value`, Buffer.from(v)] as [string, Buffer]),
    ];
    for (const [name, s] of [
      ['signed-out', signedOut],
      ['live', live],
    ] as const) {
      secrets.push(
        [`${name} token`, Buffer.from(s.token, 'base64url')],
        [`${name} csrf`, Buffer.from(s.csrf, 'base64url')],
      );
      secrets.push([`${name} cookie`, Buffer.from(s.cookie)]);
    }
    const hits: string[] = [];
    for (const [name, secret] of secrets) {
      for (const form of forms(secret)) {
        if (dump.includes(form)) hits.push(`${name} in the dump as ${form.toString('latin1').slice(0, 12)}…`);
        if (logs.includes(form)) hits.push(`${name} in the logs as ${form.toString('latin1').slice(0, 12)}…`);
      }
    }
    expect(hits).toEqual([]);
  });

  it('no sealed blob opens and no wrapped key unwraps with any key material built from the dump and configuration', () => {
    const strings: string[] = [];
    const blobs: Buffer[] = [];
    collect([tables, config], strings, blobs);
    const material = [...blobs, ...strings.flatMap(decodings)];
    const candidates = windows(material);
    expect(candidates.length).toBeGreaterThan(200);

    const publicKeys = new Set<string>(
      [
        ...(tables.data_keys ?? []).map((k) => k.public_key),
        ...(tables.users ?? []).map((u) => u.public_key),
        ...(tables.org ?? []).flatMap((o) => [o.recovery_public_key, o.trust_root]),
      ].map(String),
    );
    const records = tables.records ?? [];
    const wrapped = tables.wrapped_keys ?? [];
    const findings: string[] = [];
    let tries = 0;
    for (const w of candidates) {
      const x = PrivateKey.fromBytes('x25519', w);
      const ed = PrivateKey.fromBytes('ed25519', w);
      // A private key is found exactly when its public half is one of the stored public keys.
      if (publicKeys.has(x.publicKey.toBase64url())) findings.push(`x25519 private key ${w.toString('hex')}`);
      if (publicKeys.has(ed.publicKey.toBase64url())) findings.push(`ed25519 private key ${w.toString('hex')}`);
      for (const r of records) {
        tries++;
        const binding = recordBinding(String(r.id), String(r.type), String(r.data_key_id));
        if (attempt(() => open(x, r.sealed as Buffer, binding))) findings.push(`record ${r.id} opened`);
      }
      for (const k of wrapped) {
        tries++;
        const data = k.key_kind === 'data';
        const binding = (data ? dataKeyWrapBinding : orgKeyWrapBinding)(String(k.key_id), String(k.recipient_id));
        if (attempt(() => unwrapPrivateKey(data ? 'x25519' : 'ed25519', x, k.wrapped as Buffer, binding))) {
          findings.push(`${k.key_kind} key ${k.key_id} for ${k.recipient_id} unwrapped`);
        }
      }
    }
    // Session keys: HKDF(token, session id) from every string that parses as a token and every window.
    const tokens = new Set<string>([
      ...strings.filter((s) => attempt(() => sessionTokenHash(s))),
      ...candidates.map((w) => w.toString('base64url')),
    ]);
    const users = tables.users ?? [];
    const salts = [...(tables.sessions ?? []).map((s) => String(s.id)), ...users.map((u) => String(u.id))];
    for (const token of tokens) {
      for (const salt of salts) {
        const key = deriveSessionKey(token, salt);
        for (const s of tables.sessions ?? []) {
          tries++;
          const aad = sessionKeyAad(String(s.id), String(s.user_id));
          if (attempt(() => unwrapWithSymmetricKey('x25519', key, s.wrapped_key as Buffer, aad))) {
            findings.push(`session ${s.id} key unwrapped`);
          }
        }
        for (const u of users) {
          tries++;
          const aad = userKeyAad(String(u.id), Number(u.key_version));
          if (attempt(() => unwrapWithSymmetricKey('x25519', key, u.wrapped_private_key as Buffer, aad))) {
            findings.push(`user ${u.id} key unwrapped`);
          }
        }
        key.destroy();
      }
    }
    expect(tries).toBeGreaterThan(1000);
    expect(findings).toEqual([]);
  });

  it('control: with the live token (never in the dump) the same routines open every record', () => {
    const [s] = tables.sessions ?? [];
    expect(s?.token_hash).toBe(sessionTokenHash(live.token));
    const userKey = unwrapWithSymmetricKey(
      'x25519',
      deriveSessionKey(live.token, String(s?.id)),
      s?.wrapped_key as Buffer,
      sessionKeyAad(String(s?.id), String(s?.user_id)),
    );
    for (const r of tables.records ?? []) {
      const copy = tables.wrapped_keys?.find((k) => k.key_id === r.data_key_id && k.recipient_id === s?.user_id);
      const dataKey = unwrapPrivateKey(
        'x25519',
        userKey,
        copy?.wrapped as Buffer,
        dataKeyWrapBinding(String(r.data_key_id), String(s?.user_id)),
      );
      const value = open(
        dataKey,
        r.sealed as Buffer,
        recordBinding(String(r.id), String(r.type), String(r.data_key_id)),
      );
      expect(value.toString()).toBe(VALUES[r.type as keyof typeof VALUES]);
    }
  });

  it('after sign-out the session row is gone and the old cookie reveals nothing (401)', async () => {
    const hash = sessionTokenHash(signedOut.token);
    expect(await stack.db.owner`SELECT 1 FROM sessions WHERE token_hash = ${hash}`).toHaveLength(0);
    for (const id of Object.values(ids)) {
      const res = await reveal(id, { cookie: signedOut.cookie, csrf: deriveCsrfToken(signedOut.token) });
      expect(res.statusCode).toBe(401);
      for (const v of Object.values(VALUES)) expect(res.body).not.toContain(v);
    }
  });

  it('after 8 hours the live session has expired: 401, and its row (with its wrapped key) is gone', async () => {
    // Kept busy every 10 minutes, so only the absolute limit can end it.
    for (let elapsed = 0; elapsed < 8 * 60; elapsed += 10) {
      stack.advance(10 * 60_000);
      const res = await reveal(ids.ssn as string, live);
      expect(res.statusCode).toBe(elapsed + 10 < 8 * 60 ? 200 : 401);
    }
    stack.advance(60_000);
    for (const id of Object.values(ids)) {
      const res = await reveal(id, live);
      expect(res.statusCode).toBe(401);
      for (const v of Object.values(VALUES)) expect(res.body).not.toContain(v);
    }
    expect(
      await stack.db.owner`SELECT 1 FROM sessions WHERE token_hash = ${sessionTokenHash(live.token)}`,
    ).toHaveLength(0);
    expect(await stack.db.owner`SELECT 1 FROM sessions`).toHaveLength(0);
  });
});
