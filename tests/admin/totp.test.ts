import { unwrapUserKey } from '@coffer/admin/testing';
import { callVault, VaultRefused } from '@coffer/bus';
import { isCryptoError, open, PrivateKey, sessionTokenHash, totpBinding } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type AdminStack,
  call,
  enrolUser,
  type Signed,
  signIn,
  startAdminStack,
} from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const STEP_MS = 30_000;
const STRONG = 'violet-harbour-compass-7342-quietly';

/** The code an authenticator app shows `steps` periods from `at` (the stack's now). */
function code(stack: AdminStack, secret: string, steps = 0, at = stack.now().getTime()): string {
  return TOTP.generate({
    secret: Secret.fromBase32(secret),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    timestamp: at + steps * STEP_MS,
  });
}

/** Move the stack's clock to the start of a step, so that no step boundary passes during a check. */
function alignToStep(stack: AdminStack): void {
  stack.advance(STEP_MS - (stack.now().getTime() % STEP_MS) + 50);
}

async function signInWith(stack: AdminStack, totp: string | undefined, email = ADMIN_EMAIL, password = ADMIN_PASSWORD) {
  return stack.app.inject({
    method: 'POST',
    url: '/api/session',
    payload: { email, password, ...(totp === undefined ? {} : { totp }) },
  });
}

/** Enrol TOTP for a signed-in user (confirmed ones need a key-admin's `enrolCode`); the base32 secret. */
async function enrolTotp(stack: AdminStack, who: Signed, enrolCode?: string): Promise<string> {
  const offered = await call(stack.app, who, 'POST', '/api/me/totp', enrolCode ? { enrolCode } : {});
  expect(offered.statusCode).toBe(200);
  const { secret } = offered.json() as { secret: string };
  alignToStep(stack);
  expect((await call(stack.app, who, 'POST', '/api/me/totp/verify', { code: code(stack, secret) })).statusCode).toBe(
    204,
  );
  // The enrolment code's step is used up: the next sign-in needs a later one.
  stack.advance(STEP_MS);
  return secret;
}

describe.skipIf(!available)('TOTP: enrolment, sign-in with a code, each code once', () => {
  let stack: AdminStack;
  let session: Signed;
  let secret: string;
  let userId: string;
  let enrolCode: string;
  beforeAll(async () => {
    stack = await startAdminStack();
    session = await signIn(stack.app);
    userId = stack.ceremony.request.admin.id;
    // A confirmed account enrols its first authenticator only with a code from another key-admin.
    await enrolUser(stack.app, session, 'second.admin@example.com', 'key-admin', STRONG);
    const other = await signIn(stack.app, 'second.admin@example.com', STRONG);
    enrolCode = (await call(stack.app, other, 'POST', `/api/users/${userId}/enrol-code`, {})).json().code;
  });
  afterAll(() => stack?.close());

  const audit = async (action: string) =>
    stack.db.owner`SELECT outcome, details FROM audit_events WHERE action = ${action} ORDER BY seq`;

  it('offers a pending secret: base32, and an otpauth URL with issuer Coffer and the email as label', async () => {
    expect((await call(stack.app, undefined, 'POST', '/api/me/totp', {})).statusCode).toBe(401);
    const noCsrf = await stack.app.inject({
      method: 'POST',
      url: '/api/me/totp',
      headers: { cookie: session.cookie },
      payload: {},
    });
    expect(noCsrf.statusCode).toBe(403);

    const res = await call(stack.app, session, 'POST', '/api/me/totp', { enrolCode });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json() as { secret: string; otpauthUrl: string };
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/); // 20 random bytes
    const url = new URL(body.otpauthUrl);
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(decodeURIComponent(url.pathname)).toBe(`/Coffer:${ADMIN_EMAIL}`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      issuer: 'Coffer',
      secret: body.secret,
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
    secret = body.secret;
    // Only pending: sign-in still needs no code.
    const [row] = await stack.db.owner`SELECT totp_sealed, totp_pending FROM users WHERE id = ${userId}`;
    expect(row?.totp_sealed).toBeNull();
    expect(row?.totp_pending).toBeInstanceOf(Buffer);
    expect((await signInWith(stack, undefined)).statusCode).toBe(200);
  });

  it('refuses a wrong code with 400, audited as a failed totp.enrol', async () => {
    alignToStep(stack);
    const wrong = await call(stack.app, session, 'POST', '/api/me/totp/verify', { code: code(stack, secret, -5) });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().type).toBe('urn:coffer:problem:totp-mismatch');
    // (The request without a CSRF header above is there too, as a denial.)
    expect((await audit('totp.enrol')).filter((e) => e.outcome !== 'denied')).toEqual([
      { outcome: 'failure', details: { error: 'wrong-code' } },
    ]);
    const malformed = await call(stack.app, session, 'POST', '/api/me/totp/verify', { code: '12345' });
    expect(malformed.statusCode).toBe(400);
    const [row] = await stack.db.owner`SELECT totp_sealed FROM users WHERE id = ${userId}`;
    expect(row?.totp_sealed).toBeNull();
  });

  it('enrols the pending secret when a code for it matches (204), audited', async () => {
    alignToStep(stack);
    const res = await call(stack.app, session, 'POST', '/api/me/totp/verify', { code: code(stack, secret) });
    expect(res.statusCode).toBe(204);
    const [row] = await stack.db
      .owner`SELECT totp_sealed, totp_pending, totp_last_step FROM users WHERE id = ${userId}`;
    expect(row?.totp_sealed).toBeInstanceOf(Buffer);
    expect(row?.totp_pending).toBeNull();
    expect(Number(row?.totp_last_step)).toBe(Math.floor(stack.now().getTime() / STEP_MS));
    expect((await audit('totp.enrol')).at(-1)).toEqual({ outcome: 'success', details: { replaced: false } });
    // Nothing is pending any more: the same code cannot enrol again.
    const again = await call(stack.app, session, 'POST', '/api/me/totp/verify', { code: code(stack, secret) });
    expect(again.statusCode).toBe(409);
    const me = await call(stack.app, session, 'GET', '/api/me');
    expect(me.json()).toMatchObject({ totp: true, mfa: false });
  });

  it('then signs in only with a code: none asks for it (right password only), a wrong one is a plain 401, audited', async () => {
    const wrongPassword = await signInWith(stack, undefined, ADMIN_EMAIL, 'not-the-password-at-all');
    expect(wrongPassword.statusCode).toBe(401);
    const before = (await audit('signin')).length;
    alignToStep(stack);
    const none = await signInWith(stack, undefined);
    expect(none.statusCode).toBe(401);
    // Only someone who knows the password learns that the account has TOTP.
    expect(none.json().type).toBe('urn:coffer:problem:totp-required');
    const wrong = await signInWith(stack, code(stack, secret, -5));
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toBe(wrongPassword.body);
    expect((await audit('signin')).slice(before)).toEqual([
      { outcome: 'failure', details: { reason: 'totp' } },
      { outcome: 'failure', details: { reason: 'totp' } },
    ]);
    // Counted toward the lockout like any failed attempt.
    const [throttle] = await stack.db.owner`SELECT attempts FROM signin_throttle`;
    expect(throttle?.attempts).toBe(3);

    const ok = await signInWith(stack, code(stack, secret));
    expect(ok.statusCode).toBe(200);
    expect(await stack.db.owner`SELECT 1 FROM signin_throttle`).toHaveLength(0);
    const cookie = ok.cookies.find((c) => c.name === '__Host-coffer');
    const me = await stack.app.inject({
      method: 'GET',
      url: '/api/me',
      headers: { cookie: `__Host-coffer=${cookie?.value}` },
    });
    expect(me.json()).toMatchObject({ id: userId, totp: true, mfa: true });
    expect((await audit('signin')).at(-1)).toEqual({ outcome: 'success', details: { rehashed: false, mfa: true } });
  });

  it('accepts each code once: the same code again is 401', async () => {
    alignToStep(stack);
    const current = code(stack, secret);
    expect((await signInWith(stack, current)).statusCode).toBe(200);
    const replay = await signInWith(stack, current);
    expect(replay.statusCode).toBe(401);
    expect((await audit('signin')).at(-1)).toEqual({ outcome: 'failure', details: { reason: 'totp' } });
  });

  it('accepts a code from the previous step once, and refuses one two steps away', async () => {
    stack.advance(3 * STEP_MS);
    alignToStep(stack);
    const aligned = stack.now().getTime();
    const previous = code(stack, secret, -1, aligned);
    expect((await signInWith(stack, previous)).statusCode).toBe(200);
    expect((await signInWith(stack, previous)).statusCode).toBe(401);
    // A code from before the last accepted step is refused even inside the window. Its step is
    // taken from the aligned instant: three sign-ins can outlast the step on a loaded machine, and
    // "one step back" from a later now would be the step after the accepted one (a 200).
    expect((await signInWith(stack, code(stack, secret, -1, aligned))).statusCode).toBe(401);

    stack.advance(3 * STEP_MS);
    alignToStep(stack);
    expect((await signInWith(stack, code(stack, secret, -2))).statusCode).toBe(401);
    expect((await signInWith(stack, code(stack, secret, 2))).statusCode).toBe(401);
    expect((await signInWith(stack, code(stack, secret, 1))).statusCode).toBe(200);
    // The next step's code was accepted: this step's is now behind it.
    expect((await signInWith(stack, code(stack, secret))).statusCode).toBe(401);
  });

  it('keeps the secret sealed to the user: not in the database in any encoding, and only the user key opens it', async () => {
    const raw = Buffer.from(Secret.fromBase32(secret).bytes);
    const texts = [
      secret,
      secret.toLowerCase(),
      secret.replace(/=+$/, ''),
      raw.toString('hex'),
      raw.toString('base64'),
      raw.toString('base64url'),
      raw.toString('latin1'),
    ];
    const leaks = (value: unknown): boolean => {
      if (value === null || value === undefined) return false;
      if (Buffer.isBuffer(value)) {
        if (value.includes(raw)) return true;
        return ['hex', 'base64', 'latin1', 'utf8'].some((enc) => leaks(value.toString(enc as BufferEncoding)));
      }
      if (typeof value === 'object') return Object.values(value).some(leaks);
      const text = String(value);
      return texts.some((t) => text.includes(t) || text.toLowerCase().includes(t.toLowerCase()));
    };
    for (const table of ['users', 'sessions', 'audit_events']) {
      const rows = await stack.db.owner`SELECT * FROM ${stack.db.owner(table)}`;
      expect(rows.length, table).toBeGreaterThan(0);
      expect(rows.some(leaks), table).toBe(false);
    }
    expect(stack.logs.some(leaks)).toBe(false);

    const [row] = await stack.db.owner`SELECT totp_sealed FROM users WHERE id = ${userId}`;
    const sealed = row?.totp_sealed as Buffer;
    const expectRefused = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        expect(isCryptoError(err, 'DecryptionFailed')).toBe(true);
        return;
      }
      throw new Error('opened');
    };
    expectRefused(() => open(PrivateKey.generate('x25519'), sealed, totpBinding(userId)));
    // The user's own key, from a live session, opens it, and only under the user's own binding.
    stack.advance(3 * STEP_MS);
    alignToStep(stack);
    const live = await signIn(stack.app, ADMIN_EMAIL, ADMIN_PASSWORD, code(stack, secret));
    const [s] = await stack.db.owner<{ id: string; wrapped_key: Buffer }[]>`SELECT id, wrapped_key FROM sessions
      WHERE token_hash = ${sessionTokenHash(live.token)}`;
    if (!s) throw new Error('no session row');
    const userKey = unwrapUserKey(live.token, {
      sessionId: s.id,
      userId,
      wrappedKey: s.wrapped_key.toString('base64'),
    });
    expectRefused(() => open(userKey, sealed, totpBinding('01a2282e-0000-7000-8000-00000000beef')));
    expect(open(userKey, sealed, totpBinding(userId))).toEqual(raw);
  });
});

describe.skipIf(!available)('COFFER_REQUIRE_MFA: no reveal or export without a TOTP sign-in', () => {
  let stack: AdminStack;
  let recordId: string;
  let adminSecret: string;
  const VIEWER = 'ada.lovelace@example.com';

  beforeAll(async () => {
    stack = await startAdminStack({ requireMfa: true, adminTotp: true });
    recordId = await stack.addRecord('pan', '4111111111111111');
  });
  afterAll(() => stack?.close());

  const reveal = (who: Signed) =>
    call(stack.app, who, 'POST', `/api/records/${recordId}/reveal`, { reason: 'ticket 4711' });
  const exportAll = (who: Signed) => call(stack.app, who, 'POST', '/api/exports', { reason: 'ticket 4711' });
  const expectMfaRequired = async (res: Awaited<ReturnType<typeof reveal>>) => {
    expect(res.statusCode).toBe(403);
    expect(res.json().type).toBe('urn:coffer:problem:mfa-required');
  };

  const invite = async (admin: Signed, email: string, role: string) =>
    (await enrolUser(stack.app, admin, email, role, STRONG)).id;

  it('lets sessions without a code sign in and list, but not reveal or export (403, audited)', async () => {
    // The key-admin's authenticator was enrolled at init; inviting people is key management and
    // needs the second factor too.
    adminSecret = stack.adminTotpSecret as string;
    alignToStep(stack);
    expect((await signInWith(stack, undefined)).json().type).toBe('urn:coffer:problem:totp-required');
    const adminMfa = await signIn(stack.app, ADMIN_EMAIL, ADMIN_PASSWORD, code(stack, adminSecret));
    await invite(adminMfa, VIEWER, 'viewer');
    const viewer = await signIn(stack.app, VIEWER, STRONG);
    for (const who of [viewer]) {
      expect((await call(stack.app, who, 'GET', '/api/records')).statusCode).toBe(200);
      await expectMfaRequired(await reveal(who));
      await expectMfaRequired(await exportAll(who));
    }
    const denials = await stack.db.owner`SELECT action, outcome, details FROM audit_events
      WHERE outcome = 'denied' ORDER BY seq`;
    expect(denials.map((d) => `${d.action}:${d.details?.reason}`)).toEqual([
      'record.reveal:mfa-required',
      'export:mfa-required',
    ]);
    // Nothing was revealed or exported.
    expect(
      await stack.db
        .owner`SELECT 1 FROM audit_events WHERE action IN ('record.reveal', 'export.start') AND outcome = 'success'`,
    ).toHaveLength(0);
  });

  it('refuses the same in the vault: a session without MFA gets nothing even straight over the bus', async () => {
    const viewer = await signIn(stack.app, VIEWER, STRONG);
    const session = sessionTokenHash(viewer.token);
    for (const [op, body] of [
      ['records.reveal', { recordId, reason: 'ticket 4711' }],
      ['export.begin', { reason: 'ticket 4711' }],
    ] as const) {
      const err: unknown = await callVault(stack.adminBus, op, { v: 1, session, origin: 'test', ...body }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(VaultRefused);
      expect((err as VaultRefused).code).toBe('mfa-required');
    }
  });

  it('reveals and exports after TOTP enrolment and a sign-in with a code, not from the enrolling session', async () => {
    stack.advance(STEP_MS);
    alignToStep(stack);
    const viewer = await signIn(stack.app, VIEWER, STRONG);
    const adminMfa = await signIn(stack.app, ADMIN_EMAIL, ADMIN_PASSWORD, code(stack, adminSecret));
    const [v] = await stack.db.owner`SELECT id FROM users WHERE email = ${VIEWER}`;
    const issued = await call(stack.app, adminMfa, 'POST', `/api/users/${v?.id}/enrol-code`, {});
    const viewerSecret = await enrolTotp(stack, viewer, issued.json().code);

    expect((await reveal(adminMfa)).json()).toMatchObject({ value: '4111111111111111' });
    const csv = await exportAll(adminMfa);
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toContain('4111111111111111');

    const viewerMfa = await signIn(stack.app, VIEWER, STRONG, code(stack, viewerSecret));
    expect((await reveal(viewerMfa)).json()).toMatchObject({ value: '4111111111111111' });
    expect((await exportAll(viewerMfa)).statusCode).toBe(200);
  });

  it('forgets the TOTP secret on a reset: the new key could not open it, so sign-in needs no code', async () => {
    stack.advance(STEP_MS);
    alignToStep(stack);
    const admin = await signIn(stack.app, ADMIN_EMAIL, ADMIN_PASSWORD, code(stack, adminSecret));
    const [viewer] = await stack.db.owner`SELECT id FROM users WHERE email = ${VIEWER}`;
    const reset = await call(stack.app, admin, 'POST', `/api/users/${viewer?.id}/reset`);
    expect(reset.statusCode).toBe(200);
    const [row] = await stack.db.owner`SELECT totp_sealed, totp_pending, totp_last_step FROM users
      WHERE id = ${viewer?.id}`;
    expect(row).toEqual({ totp_sealed: null, totp_pending: null, totp_last_step: null });
    const password = 'indigo-lighthouse-anchor-5519-gently';
    const accepted = await call(stack.app, undefined, 'POST', '/api/invites/accept', {
      token: reset.json().inviteToken,
      password,
    });
    expect(accepted.statusCode).toBe(200);
    expect((await signInWith(stack, undefined, VIEWER, password)).statusCode).toBe(200);
  });
});
