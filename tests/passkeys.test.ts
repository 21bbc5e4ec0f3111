/**
 * Passkeys (issue 16 item 1) in a real browser: Debian's headless Chromium with the DevTools
 * protocol's virtual authenticator (resident keys, user verification, PRF) against a real vault,
 * PostgreSQL and NATS. Register from the portal, sign in with the passkey alone and reveal; a
 * passkey used from another origin, a passkey row moved to another user, a replayed assertion and
 * a session hash swapped on the way to the vault are refused; removing the passkey removes its wrap.
 */
import { createServer as createHttpServer } from 'node:http';
import AxeBuilder from '@axe-core/playwright';
import { callVault, VaultRefused } from '@coffer/bus';
import { createSessionToken, deriveCsrfToken, sessionTokenHash } from '@coffer/crypto';
import { Secret, TOTP } from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type AdminStack, call, signIn, startAdminStack } from './support/admin-stack.ts';
import { browserTestsAvailable, launchChromium } from './support/portal-browser.ts';
import { reservePort } from './support/ports.ts';
import { pageWithAuthenticator } from './support/virtual-authenticator.ts';

const available = await browserTestsAvailable();

const OTHER = 'vera.viewer@example.com';

/** In the page: a raw WebAuthn assertion for `challenge`, as JSON, with its PRF output. */
const assertInPage = (page: Page, challenge: string) =>
  page.evaluate(async (challenge) => {
    const b64 = (b: ArrayBuffer) =>
      btoa(String.fromCharCode(...new Uint8Array(b)))
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
        .replace(/=+$/, '');
    const bytes = (s: string) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const salt = new Uint8Array(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode('coffer/passkey-prf/v1')),
    );
    // The DOM's WebAuthn types, as far as this test reads them (the tests compile without the DOM lib).
    interface Credential {
      id: string;
      rawId: ArrayBuffer;
      response: {
        clientDataJSON: ArrayBuffer;
        authenticatorData: ArrayBuffer;
        signature: ArrayBuffer;
        userHandle: ArrayBuffer | null;
      };
      getClientExtensionResults(): { prf?: { results?: { first?: ArrayBuffer } } };
    }
    const { credentials } = (
      globalThis as unknown as { navigator: { credentials: { get(o: unknown): Promise<Credential> } } }
    ).navigator;
    const cred = await credentials.get({
      publicKey: {
        challenge: bytes(challenge),
        rpId: 'localhost',
        userVerification: 'required',
        extensions: { prf: { eval: { first: salt } } },
      },
    });
    const r = cred.response;
    const prf = cred.getClientExtensionResults().prf?.results?.first;
    return {
      assertion: {
        id: cred.id,
        rawId: b64(cred.rawId),
        type: 'public-key',
        response: {
          clientDataJSON: b64(r.clientDataJSON),
          authenticatorData: b64(r.authenticatorData),
          signature: b64(r.signature),
          ...(r.userHandle ? { userHandle: b64(r.userHandle) } : {}),
        },
        clientExtensionResults: {},
      },
      prf: prf ? b64(prf) : null,
    };
  }, challenge);

describe.skipIf(!available)('passkeys in Chromium with a virtual authenticator', () => {
  let stack: AdminStack;
  let browser: Browser;
  let url: string;
  let context: BrowserContext;
  let page: Page;
  let otherOrigin: ReturnType<typeof createHttpServer>;
  let otherUrl: string;

  /** Ask the admin plane for passkey sign-in options as a browser would: the challenge and cookie. */
  async function passkeyOptions() {
    const res = await stack.app.inject({ method: 'POST', url: '/api/session/passkey/options' });
    expect(res.statusCode).toBe(200);
    const pending = res.cookies.find((c) => c.name === '__Host-coffer-passkey');
    return { ...(res.json() as { challengeId: string; options: { challenge: string } }), pending: pending?.value };
  }

  const completeWith = (pending: string | undefined, body: unknown) =>
    stack.app.inject({
      method: 'POST',
      url: '/api/session/passkey',
      headers: pending ? { cookie: `__Host-coffer-passkey=${pending}` } : {},
      payload: body as object,
    });

  /** A fresh code of the key-admin's authenticator: a step later each time (a step signs in once). */
  function adminCode(): string {
    stack.advance(30_000);
    return TOTP.generate({
      secret: Secret.fromBase32(stack.adminTotpSecret as string),
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
      timestamp: stack.now().getTime(),
    });
  }

  /** The portal's sign-in with the password and the authenticator code. */
  async function portalSignIn(p: Page) {
    await p.goto(url);
    await p.getByLabel('Email').fill(ADMIN_EMAIL);
    await p.getByLabel('Password', { exact: true }).fill(ADMIN_PASSWORD);
    await p.getByRole('button', { name: 'Sign in', exact: true }).click();
    await p.getByLabel('Authenticator code').fill(adminCode());
    await p.getByRole('button', { name: 'Verify code' }).click();
  }

  beforeAll(async () => {
    // The origin names the port before the vault starts; held until the console listens on it.
    const reserved = await reservePort();
    const port = reserved.port;
    url = `http://localhost:${port}`;
    // The key-admin's authenticator enrolled at init: a confirmed account adds a passkey only from
    // a session opened with its second factor (review2), never on the password alone.
    stack = await startAdminStack({
      passkeys: { origin: url, rpId: 'localhost' },
      passkeyForKeyAdmins: true,
      adminTotp: true,
    });
    await stack.addRecord('ssn', '123-45-6789');
    // Another person (no keys needed): the owner of a passkey row a database writer moves.
    await stack.db
      .owner`INSERT INTO users (id, email, role, status) VALUES (${crypto.randomUUID()}, ${OTHER}, 'viewer', 'active')`;
    await reserved.release();
    await stack.app.listen({ host: '127.0.0.1', port });
    // Another origin under the same RP ID: a page there can ask the authenticator for an assertion.
    otherOrigin = createHttpServer((_req, res) => res.end('<!doctype html><title>elsewhere</title>'));
    await new Promise<void>((resolve) => otherOrigin.listen(0, '127.0.0.1', resolve));
    const other = otherOrigin.address();
    otherUrl = `http://localhost:${typeof other === 'object' && other ? other.port : 0}`;
    browser = await launchChromium();
    context = await browser.newContext();
    page = await pageWithAuthenticator(context);
  });
  afterAll(async () => {
    await context?.close().catch(() => {});
    await browser?.close();
    otherOrigin?.close();
    await stack?.close();
  });

  it('with passkeys required for key-admins, a password session may not manage keys', async () => {
    const admin = await signIn(stack.app, ADMIN_EMAIL, ADMIN_PASSWORD, adminCode());
    const res = await call(stack.app, admin, 'GET', '/api/keys');
    expect(res.statusCode).toBe(403);
    expect(res.json().type).toMatch(/passkey-required$/);
  });

  it('registers a passkey from the portal with the password; the vault keeps a wrap only the PRF opens', async () => {
    await portalSignIn(page);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Me' }).click();
    const card = page.getByRole('region', { name: 'Passkeys' });
    await card.getByLabel('Passkey name').fill('work laptop');
    await card.getByLabel('Your password').fill(ADMIN_PASSWORD);
    await card.getByRole('button', { name: 'Add a passkey' }).click();
    await card.getByText('Passkey added. You can now sign in with it alone.').waitFor();
    await card.getByText('work laptop', { exact: true }).waitFor();
    const axe = await new AxeBuilder({ page }).include('section[aria-labelledby="passkeys-title"]').analyze();
    expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
    const rows = await stack.db.owner<{ user_email: string; wrapped: boolean; name: string }[]>`
      SELECT u.email AS user_email, p.wrapped_key IS NOT NULL AS wrapped, p.name
      FROM passkeys p JOIN users u ON u.id = p.user_id`;
    expect(rows).toEqual([{ user_email: ADMIN_EMAIL, wrapped: true, name: 'work laptop' }]);
    const [audit] = await stack.db.owner`SELECT outcome FROM audit_events WHERE action = 'passkey.add'`;
    expect(audit?.outcome).toBe('success');
  });

  it('signs in with the passkey alone (no email, no password) and reveals a record', async () => {
    await context.clearCookies();
    await page.goto(url);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
    const token = (await context.cookies()).find((c) => c.name === '__Host-coffer')?.value;
    expect(token).toBeTruthy();
    const me = { cookie: `__Host-coffer=${token}`, token: token as string, csrf: deriveCsrfToken(token as string) };
    const asMe = { ...me, res: undefined as never };
    const [record] = await stack.db.owner<{ id: string }[]>`SELECT id::text AS id FROM records LIMIT 1`;
    const revealed = await stack.app.inject({
      method: 'POST',
      url: `/api/records/${record?.id}/reveal`,
      headers: { cookie: me.cookie, 'x-coffer-csrf': me.csrf },
      payload: { reason: 'passkey check, ticket 12' },
    });
    expect(revealed.statusCode).toBe(200);
    expect(revealed.json().value).toBe('123-45-6789');
    // A passkey session is what key management needs here.
    expect((await call(stack.app, asMe, 'GET', '/api/keys')).statusCode).toBe(200);
    const [signin] = await stack.db.owner<{ details: { method?: string; mfa?: boolean } }[]>`
      SELECT details FROM audit_events WHERE action = 'signin' AND outcome = 'success' ORDER BY seq DESC LIMIT 1`;
    expect(signin?.details).toMatchObject({ method: 'passkey', mfa: true });
  });

  it('refuses an assertion made on another origin, a replayed one, and a session hash swapped on the bus', async () => {
    // Another origin, same RP ID: the authenticator signs, the vault sees the wrong origin.
    await page.goto(otherUrl);
    const elsewhere = await passkeyOptions();
    const foreign = await assertInPage(page, elsewhere.options.challenge);
    expect(foreign.prf).toBeTruthy();
    const refused = await completeWith(elsewhere.pending, { challengeId: elsewhere.challengeId, ...foreign });
    expect(refused.statusCode).toBe(401);
    expect(refused.cookies.some((c) => c.name === '__Host-coffer' && c.value)).toBe(false);

    // The right origin, but the vault is told another session hash than the one signed over.
    await page.goto(url);
    const genuine = await passkeyOptions();
    const signed = await assertInPage(page, genuine.options.challenge);
    const [before] = await stack.db.owner<{ n: number }[]>`SELECT count(*)::int AS n FROM sessions`;
    const attacker = createSessionToken();
    let err: unknown;
    try {
      await callVault(stack.adminBus, 'passkey.signin-complete', {
        v: 1,
        credentialId: signed.assertion.id,
        challengeId: genuine.challengeId,
        assertion: JSON.stringify(signed.assertion),
        session: sessionTokenHash(attacker),
        sessionId: crypto.randomUUID(),
        wrappedKey: Buffer.alloc(80).toString('base64'),
        origin: 'bus',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VaultRefused);
    expect((err as VaultRefused).code).toBe('unauthenticated');
    // The challenge is spent: the genuine request, replayed after that, is refused too.
    const replay = await completeWith(genuine.pending, { challengeId: genuine.challengeId, ...signed });
    expect(replay.statusCode).toBe(401);
    const [after] = await stack.db.owner<{ n: number }[]>`SELECT count(*)::int AS n FROM sessions`;
    expect(after?.n).toBe(before?.n);
    const failures = await stack.db.owner<{ details: { reason?: string } }[]>`
      SELECT details FROM audit_events WHERE action = 'signin' AND outcome = 'failure' AND details->>'method' = 'passkey'`;
    expect(failures.map((f) => f.details.reason)).toContain('assertion');
  });

  it('refuses the passkey once a database writer moves its row to another user', async () => {
    await stack.db.owner`UPDATE passkeys SET user_id = (SELECT id FROM users WHERE email = ${OTHER})`;
    try {
      const options = await passkeyOptions();
      const signed = await assertInPage(page, options.options.challenge);
      const res = await completeWith(options.pending, { challengeId: options.challengeId, ...signed });
      expect(res.statusCode).toBe(401);
    } finally {
      await stack.db.owner`UPDATE passkeys SET user_id = (SELECT id FROM users WHERE email = ${ADMIN_EMAIL})`;
    }
  });

  it('a phished password session cannot add its own passkey to a key-admin, nor remove theirs', async () => {
    // The phisher relayed the key-admin's password (and code) in real time: a password session, in
    // the phisher's browser with the phisher's authenticator. COFFER_REQUIRE_PASSKEY_FOR_KEY_ADMINS
    // exists to stop exactly this session from managing keys.
    const phisher = await browser.newContext();
    try {
      const p = await pageWithAuthenticator(phisher);
      await portalSignIn(p);
      await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Me' }).click();
      const card = p.getByRole('region', { name: 'Passkeys' });
      await card.getByLabel('Passkey name').fill('phisher');
      await card.getByLabel('Your password').fill(ADMIN_PASSWORD);
      const answered = p.waitForResponse(
        (r) => r.url().endsWith('/api/me/passkeys') && r.request().method() === 'POST',
      );
      await card.getByRole('button', { name: 'Add a passkey' }).click();
      const added = await answered;
      const names = await stack.db.owner<{ name: string }[]>`SELECT name FROM passkeys ORDER BY created_at`;
      expect({ status: added.status(), names: names.map((n) => n.name) }).toEqual({
        status: 403,
        names: ['work laptop'],
      });
      // Nor can that session remove the genuine passkey to make room for its own.
      const password = await signIn(stack.app, ADMIN_EMAIL, ADMIN_PASSWORD, adminCode());
      const [genuine] = await stack.db.owner<{ credential_id: string }[]>`SELECT credential_id FROM passkeys`;
      const removed = await call(stack.app, password, 'DELETE', `/api/me/passkeys/${genuine?.credential_id}`);
      expect(removed.statusCode).toBe(403);
    } finally {
      await phisher.close();
      await stack.db.owner`DELETE FROM passkeys WHERE name = 'phisher'`;
    }
  });

  it('removing the passkey removes its wrap; it signs in no more', async () => {
    await page.goto(url);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Me' }).click();
    const card = page.getByRole('region', { name: 'Passkeys' });
    await card.getByRole('button', { name: 'Remove passkey work laptop' }).click();
    await card.getByText('No passkeys yet.').waitFor();
    const [left] = await stack.db.owner<{ n: number }[]>`SELECT count(*)::int AS n FROM passkeys`;
    expect(left?.n).toBe(0);
    await context.clearCookies();
    await page.goto(url);
    await page.getByRole('button', { name: 'Sign in with a passkey' }).click();
    await page.getByText('This passkey does not sign in here.').waitFor();
  });
});
