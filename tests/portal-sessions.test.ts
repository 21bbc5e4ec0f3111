/**
 * Session control in the console (issue 16 item 2), in Debian's headless Chromium against a real
 * vault, PostgreSQL and NATS: a key-admin's Sessions page lists everyone signed in and ends a
 * viewer's session, whose very next request lands on the sign-in page; a viewer signs out one of
 * their own other sessions from Me. axe-core checks the new screen.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type AdminStack,
  enrolUser,
  signIn,
  startAdminStack,
} from './support/admin-stack.ts';
import {
  axeSerious,
  browserTestsAvailable,
  closePortal,
  go,
  servePortal,
  signInThroughForm,
} from './support/portal-browser.ts';

const available = await browserTestsAvailable();

const VIEWER = 'sam.viewer@example.com';
const VIEWER_PASSWORD = 'amber-lighthouse-quilt-5813-softly';
// expect.poll gives up after 1 s by default: a re-render of the table in Chromium on a busy
// two-core machine can take longer. Playwright's own waits allow 30 s; so does this.
const POLL = { timeout: 30_000 };

describe.skipIf(!available)('session control in Chromium', () => {
  let stack: AdminStack;
  let browser: Browser;
  let url: string;
  const contexts: BrowserContext[] = [];

  async function signedIn(email: string, password: string, agent: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, userAgent: agent });
    contexts.push(context);
    const page = await context.newPage();
    await signInThroughForm(page, url, { email, password });
    return page;
  }

  // The session behind this page has ended: the click's request is refused and the sign-in page
  // replaces the 'Me' page at once. Waiting for its heading could miss it and wait out
  // Playwright's 30 s of the test's time, so only the click.
  const clickMe = (page: Page) =>
    page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Me' })
      .click()
      .catch(() => {});

  beforeAll(async () => {
    stack = await startAdminStack();
    await enrolUser(stack.app, await signIn(stack.app), VIEWER, 'viewer', VIEWER_PASSWORD);
    ({ url, browser } = await servePortal(stack));
  });
  afterAll(() => closePortal(contexts, browser, stack));

  it('a key-admin sees every live session on Sessions and ends a viewer’s: the viewer is signed out', async () => {
    const viewer = await signedIn(VIEWER, VIEWER_PASSWORD, 'ViewerBrowser/1.0');
    const admin = await signedIn(ADMIN_EMAIL, ADMIN_PASSWORD, 'AdminBrowser/2.0');
    await go(admin, 'Sessions');
    const table = admin.getByRole('table', { name: 'Live sessions' });
    const row = table.getByRole('row').filter({ hasText: VIEWER });
    await row.waitFor();
    expect(await row.getByRole('cell', { name: 'ViewerBrowser/1.0' }).count()).toBe(1);
    expect(await row.getByRole('cell', { name: '127.0.0.1' }).count()).toBe(1);
    // The key-admin's own session is marked and cannot be ended from here.
    const own = table.getByRole('row').filter({ hasText: 'this session' });
    expect(await own.getByRole('button').count()).toBe(0);
    expect((await axeSerious(admin)).serious).toEqual([]);

    await row.getByRole('button', { name: /^End session of sam\.viewer@example\.com/ }).click();
    await admin
      .getByRole('status')
      .filter({ hasText: `Ended the session of ${VIEWER}` })
      .waitFor();
    await expect.poll(() => table.getByRole('row').filter({ hasText: VIEWER }).count(), POLL).toBe(0);
    // The viewer's next request is refused and the console says so.
    await clickMe(viewer);
    await viewer.getByText('Your session has ended').waitFor();
    const [event] = await stack.db.owner`SELECT details FROM audit_events WHERE action = 'session.end'`;
    expect(event?.details).toMatchObject({ by: 'key-admin' });
  });

  it('a viewer signs out one of their own other sessions from Me; a viewer has no Sessions page', async () => {
    const first = await signedIn(VIEWER, VIEWER_PASSWORD, 'FirstBrowser/1.0');
    const second = await signedIn(VIEWER, VIEWER_PASSWORD, 'SecondBrowser/1.0');
    const nav = second.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').allTextContents()).not.toContain('Sessions');
    await go(second, 'Me');
    const table = second.getByRole('table', { name: 'Your live sessions' });
    const other = table.getByRole('row').filter({ hasText: 'FirstBrowser/1.0' });
    await other.getByRole('button', { name: /^Sign out the session started/ }).click();
    await second.getByRole('status').filter({ hasText: 'Signed out the session started' }).waitFor();
    await expect.poll(() => table.getByRole('row').filter({ hasText: 'FirstBrowser/1.0' }).count(), POLL).toBe(0);
    await clickMe(first);
    await first.getByText('Your session has ended').waitFor();
  });
});
