/**
 * Review (issue 9 item 3 vs issue 16 item 1): the password of a confirmed account alone must not
 * enrol its first second factor. TOTP needs a key-admin's enrolment code for that; a passkey is a
 * second factor too (a passkey sign-in opens an MFA session, which reveal and export take under
 * COFFER_REQUIRE_MFA), so whoever holds only a viewer's password must not register their own
 * passkey either, and then sign in with it as "MFA". Real vault, PostgreSQL, NATS and Chromium
 * with a virtual authenticator (the thief's).
 */
import { existsSync } from 'node:fs';
import { natsForTests, postgresAvailable, requireServices } from '@coffer/testkit';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, enrolUser, signIn, startAdminStack } from './support/admin-stack.ts';
import { reservePort } from './support/ports.ts';
import { pageWithAuthenticator } from './support/virtual-authenticator.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser && requireServices()) throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium`);
const available = hasBrowser && (await postgresAvailable()) && (await natsForTests()) !== undefined;

const VIEWER = 'mallory.victim@example.com';
const STRONG = 'violet-harbour-compass-7342-quietly';

describe.skipIf(!available)('a stolen password does not enrol a first passkey on a confirmed account', () => {
  let stack: AdminStack;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    // The origin names the port before the vault starts; held until the console listens on it.
    const reserved = await reservePort();
    const port = reserved.port;
    url = `http://localhost:${port}`;
    stack = await startAdminStack({ passkeys: { origin: url, rpId: 'localhost' } });
    const admin = await signIn(stack.app);
    await enrolUser(stack.app, admin, VIEWER, 'viewer', STRONG);
    await reserved.release();
    await stack.app.listen({ host: '127.0.0.1', port });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it("refuses the thief's passkey on a confirmed viewer's password session (no passkey row, audited refusal)", async () => {
    const [viewer] = await stack.db.owner<{ status: string; totp: boolean }[]>`
      SELECT status, totp_sealed IS NOT NULL AS totp FROM users WHERE email = ${VIEWER}`;
    expect(viewer).toEqual({ status: 'active', totp: false });
    const thief = await browser.newContext();
    try {
      const page = await pageWithAuthenticator(thief);
      await page.goto(url);
      await page.getByLabel('Email').fill(VIEWER);
      await page.getByLabel('Password', { exact: true }).fill(STRONG);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Me' }).click();
      const card = page.getByRole('region', { name: 'Passkeys' });
      await card.getByLabel('Passkey name').fill('thief');
      await card.getByLabel('Your password').fill(STRONG);
      const answered = page.waitForResponse(
        (r) => r.url().endsWith('/api/me/passkeys') && r.request().method() === 'POST',
      );
      await card.getByRole('button', { name: 'Add a passkey' }).click();
      const added = await answered;
      const rows = await stack.db.owner<{ name: string }[]>`
        SELECT p.name FROM passkeys p JOIN users u ON u.id = p.user_id WHERE u.email = ${VIEWER}`;
      // Before the fix: 201 and a passkey row, whose sign-in is an MFA session for the thief.
      expect({ status: added.status(), passkeys: rows.map((r) => r.name) }).toEqual({ status: 403, passkeys: [] });
      const denied = await stack.db.owner<{ outcome: string; details: { reason?: string } }[]>`
        SELECT outcome, details FROM audit_events WHERE action = 'passkey.add' ORDER BY seq`;
      expect(denied).toEqual([{ outcome: 'denied', details: { reason: 'mfa-required' } }]);
    } finally {
      await thief.close();
    }
  });
});
