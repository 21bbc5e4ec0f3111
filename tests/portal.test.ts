/**
 * The staff portal in a real browser (Debian's headless Chromium): sign in, list, reveal with a
 * reason. Also checks that the portal runs under its strict CSP (no inline script).
 */
import { existsSync } from 'node:fs';
import { natsForTests, postgresAvailable, requireServices } from '@coffer/testkit';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type AdminStack, startAdminStack } from './support/admin-stack.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser && requireServices()) throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium`);
const available = hasBrowser && (await postgresAvailable()) && (await natsForTests()) !== undefined;

describe.skipIf(!available)('staff portal in Chromium', () => {
  let stack: AdminStack;
  let browser: Browser;
  let url: string;
  const value = '4000 0566 5566 5556';

  beforeAll(async () => {
    stack = await startAdminStack();
    await stack.addRecord('pan', value.replace(/ /g, ''));
    url = await stack.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('signs in, lists, and reveals a value with a reason, without CSP violations', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) violations.push(msg.text());
    });
    await page.goto(url);
    await page.fill('input[name=email]', ADMIN_EMAIL);
    await page.fill('input[name=password]', ADMIN_PASSWORD);
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#rows tr');
    expect(await page.textContent('#who')).toContain('key-admin');
    expect(await page.textContent('#rows')).toContain('…5556');
    await page.fill('#reason', 'portal test: ticket 42');
    await page.click('#rows tr button');
    await page.waitForSelector('#rows .value:has-text("4000056655665556")');
    // The cookie is HttpOnly: the page's script cannot read the session token.
    expect(await page.evaluate('document.cookie')).toBe('');
    await page.screenshot({ path: '/tmp/coffer-portal.png' });
    expect(violations).toEqual([]);
    const audit = await stack.db
      .owner`SELECT reason FROM audit_events WHERE action = 'record.reveal' AND outcome = 'success'`;
    expect(audit.map((r) => r.reason)).toContain('portal test: ticket 42');
  });
});
