/**
 * The console's smaller flows in Debian's headless Chromium against a real vault, PostgreSQL and
 * NATS (issue 12), beside the main scenario in portal.test.ts: keyboard-only use, record filters
 * and paging, Copy, the 429 and lockout messages, the idle warning on a faked browser clock, export
 * progress, re-send/reset/revoke with their confirm step, the invitee's page at phone width in dark
 * mode, and the audit filters with the CSV of the filtered view. One stack, one browser, one
 * key-admin session (signed in by keyboard in the first test) for the whole file.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendAudit } from '@coffer/vault/testing';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type AdminStack, anotherAdmin, startAdminStack } from './support/admin-stack.ts';
import {
  axeSerious,
  browserTestsAvailable,
  gate,
  go,
  launchChromium,
  type Pages,
  pages,
} from './support/portal-browser.ts';

const available = await browserTestsAvailable();

const TOP_PAN = '4000056655665556'; // the newest record: the first Reveal button in tab order
const COPY_PAN = '5555555555554444';
const OLD_DAY = '2026-01-15';
const INVITEE = 'rita.resend@example.com';
const INVITEE_PASSWORD = 'amber-lighthouse-quilt-5813-softly';
const LOCKED = 'lou.locked@example.com';
const TARGET = 'flows-target-7';
const WAIT = { timeout: 30_000 }; // a bound for a poll on a loaded machine, not a pace

describe.skipIf(!available)('portal flows in Chromium', { timeout: 120_000 }, () => {
  let stack: AdminStack;
  let browser: Browser;
  let url: string;
  let limited: FastifyInstance;
  let adminContext: BrowserContext;
  let admin: Page;
  let total = 0;
  const violations: string[] = [];
  let open: Pages['open'];
  let newPage: Pages['newPage'];

  const events = (action: string, target: string) =>
    stack.db.owner<{ reason: string | null; outcome: string }[]>`
      SELECT reason, outcome FROM audit_events WHERE action = ${action} AND target = ${target}`;
  const statusOf = async (email: string) =>
    (await stack.db.owner<{ status: string }[]>`SELECT status FROM users WHERE email = ${email}`)[0]?.status;
  const rows = (page: Page, table: string) => page.getByRole('table', { name: table }).getByRole('row');
  const expectRows = (page: Page, table: string, n: number) =>
    expect.poll(() => rows(page, table).count(), WAIT).toBe(n + 1); // and the header row

  beforeAll(async () => {
    stack = await startAdminStack({ revealSeconds: 60 });
    for (let i = 0; i < 26; i++) await stack.addRecord('pan', '4111111111111111');
    await stack.addRecord('ssn', '123-45-6789');
    await stack.addRecord('ssn', '987-65-4321');
    await stack.addRecord('secret', 'a secret');
    const copy = await stack.addRecord('pan', COPY_PAN);
    const top = await stack.addRecord('pan', TOP_PAN);
    await stack.db.owner`UPDATE records SET submitted_at = submitted_at - interval '1 minute' WHERE id <> ${top}`;
    await stack.db.owner`UPDATE records SET submitted_at = ${`${OLD_DAY}T12:00:00Z`}
      WHERE id IN (SELECT id FROM records WHERE type = 'pan' AND id NOT IN (${top}, ${copy}) LIMIT 3)`;
    total = Number((await stack.db.owner`SELECT count(*) AS n FROM records`)[0]?.n);
    url = await stack.app.listen({ host: '127.0.0.1', port: 0 });
    // A second admin plane on the same vault, allowing one sign-in request a minute: the 429 case.
    limited = await anotherAdmin(stack, { signinPerMinute: 1 });
    browser = await launchChromium();
    ({ open, newPage } = pages(browser, violations));
    ({ context: adminContext, page: admin } = await open({ clipboard: true }));
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await limited?.close();
    await stack?.close();
  });

  it('keyboard only: sign in, Tab to a Reveal, reveal with a reason, Escape returns focus', async () => {
    await admin.goto(url);
    await admin.getByRole('heading', { name: 'Sign in' }).waitFor();
    const focused = () => admin.evaluate<string>("document.activeElement?.getAttribute('aria-label') ?? ''");
    await admin.keyboard.press('Tab');
    expect(await admin.evaluate("document.activeElement?.getAttribute('type')")).toBe('email');
    await admin.keyboard.type(ADMIN_EMAIL);
    await admin.keyboard.press('Tab');
    await admin.keyboard.type(ADMIN_PASSWORD);
    await admin.keyboard.press('Enter');
    await admin.getByRole('heading', { level: 1, name: 'Records' }).waitFor(WAIT);
    await admin.getByRole('cell', { name: '…5556' }).waitFor();
    let label = '';
    for (let i = 0; i < 40 && !label.startsWith('Reveal '); i++) {
      await admin.keyboard.press('Tab');
      label = await focused();
    }
    expect(label).toBe('Reveal Card number ending 5556');
    await admin.keyboard.press('Enter');
    const dialog = admin.getByRole('dialog', { name: 'Reveal Card number ending 5556' });
    await dialog.waitFor();
    // Focus moved into the dialog, onto the reason field.
    expect(await admin.evaluate("document.activeElement?.closest('dialog') !== null")).toBe(true);
    await admin.keyboard.type('ticket 1: keyboard only');
    await admin.keyboard.press('Enter');
    const value = dialog.getByLabel('Revealed value');
    await value.waitFor(WAIT);
    expect(await value.textContent()).toBe('••••••••••••5556');
    await admin.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await focused()).toBe('Reveal Card number ending 5556');
    expect(await admin.content()).not.toContain(TOP_PAN);
    const [id] = await stack.db.owner<{ id: string }[]>`SELECT id FROM records WHERE hint = '5556'`;
    expect(await events('record.reveal', id?.id ?? '')).toEqual([
      { reason: 'ticket 1: keyboard only', outcome: 'success' },
    ]);
  });

  it('records: server-side paging both ways, filters by type and by submission date', async () => {
    const table = 'Records, newest first';
    await expectRows(admin, table, 25);
    await admin.getByRole('button', { name: 'Older →' }).click();
    await admin.getByText('Page 2').waitFor();
    await expectRows(admin, table, total - 25);
    expect(await admin.getByRole('button', { name: 'Older →' }).isDisabled()).toBe(true);
    await admin.getByRole('button', { name: '← Newer' }).click();
    await admin.getByText('Page 1').waitFor();
    await expectRows(admin, table, 25);

    await admin.getByLabel('Type').selectOption('ssn');
    await expectRows(admin, table, 2);
    expect(await rows(admin, table).getByText('SSN', { exact: true }).count()).toBe(2);
    await admin.getByLabel('Type').selectOption('');
    await admin.getByLabel('Submitted to').fill('2026-01-31');
    await expectRows(admin, table, 3);
    expect(
      await rows(admin, table)
        .getByText(/^Jan 15, 2026, 12:00:00 PM UTC$/)
        .count(),
    ).toBe(3);
    await admin.getByLabel('Submitted from').fill('2026-01-16');
    await admin.getByText('No records match these filters.').waitFor();
    await admin.getByLabel('Submitted from').fill('');
    await admin.getByLabel('Submitted to').fill('');
    await expectRows(admin, table, 25);
  });

  it('reveal: Copy puts the value on the clipboard; Done takes it off the page', async () => {
    await admin.getByRole('button', { name: 'Reveal Card number ending 4444' }).click();
    const dialog = admin.getByRole('dialog', { name: 'Reveal Card number ending 4444' });
    await dialog.getByLabel('Reason for revealing').fill('ticket 2: copy to the payment form');
    await dialog.getByRole('button', { name: 'Reveal' }).click();
    await dialog.getByRole('button', { name: 'Copy' }).click();
    await dialog.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await admin.evaluate('navigator.clipboard.readText()')).toBe(COPY_PAN);
    await dialog.getByRole('button', { name: 'Done' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await admin.content()).not.toContain(COPY_PAN);
    const [id] = await stack.db.owner<{ id: string }[]>`SELECT id FROM records WHERE hint = '4444'`;
    expect(await events('record.reveal', id?.id ?? '')).toEqual([
      { reason: 'ticket 2: copy to the payment form', outcome: 'success' },
    ]);
  });

  it('sign-in: a 429 says to wait and for how long; a locked account says so with the time', async () => {
    const limitedUrl = await limited.listen({ host: '127.0.0.1', port: 0 });
    const { page } = await open();
    await page.goto(limitedUrl);
    await page.getByLabel('Email').fill(ADMIN_EMAIL);
    await page.getByLabel('Password').fill(ADMIN_PASSWORD);
    // The limit counts requests, good or bad: a malformed one, just before, spends this minute's only one.
    const spent = await fetch(`${limitedUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(spent.status).toBe(400);
    const sessions = async () => Number((await stack.db.owner`SELECT count(*) AS n FROM sessions`)[0]?.n);
    const before = await sessions();
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/session') && r.request().method() === 'POST');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const res = await answered;
    expect(res.status()).toBe(429);
    const retry = Number(res.headers()['retry-after']);
    const alert = await page.getByRole('alert').filter({ hasText: 'Too many sign-in attempts' }).textContent();
    const wait = Number(
      /^Too many sign-in attempts from this address\. Try again in (\d+) s\.$/.exec(alert ?? '')?.[1],
    );
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(Math.min(retry, 60));
    expect(await page.getByRole('button', { name: 'Sign in', exact: true }).isDisabled()).toBe(true);
    expect(await sessions()).toBe(before); // the right password, refused before it was checked

    // Ten attempts were counted (as the vault counts them, before any password check): the next locks.
    const key = createHash('sha256').update(LOCKED).digest('hex'); // throttleKey of an address
    await stack.db
      .owner`INSERT INTO signin_throttle (email_hash, attempts, updated_at) VALUES (${key}, 10, ${stack.now()})`;
    await page.goto(url);
    await page.getByLabel('Email').fill(LOCKED);
    await page.getByLabel('Password').fill('granite-orchard-pilot-6620-kindly');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /^Too many failed sign-ins for this account\. It is locked .* Try again in 30 min\.$/ })
      .waitFor(WAIT);
    expect(await page.getByRole('button', { name: 'Sign in', exact: true }).isDisabled()).toBe(true);
    expect(await events('signin.lockout', LOCKED)).toEqual([{ reason: null, outcome: 'success' }]);
    const [throttle] = await stack.db.owner<{ locked_until: Date }[]>`
      SELECT locked_until FROM signin_throttle WHERE email_hash = ${key}`;
    expect(throttle?.locked_until.getTime()).toBeGreaterThan(stack.now().getTime() + 29 * 60_000);
  });

  it('idle: a warning two minutes before the timeout, Stay signed in, then signed out', async () => {
    const { context, page } = await open({ as: adminContext });
    await page.clock.install();
    await page.goto(url);
    await page.getByRole('heading', { level: 1, name: 'Records' }).waitFor(WAIT);
    await page.clock.fastForward('13:30');
    const warning = page.getByRole('dialog', { name: 'Still there?' });
    const text = warning.getByText(/ends after 15 idle minutes\. It ends in \d+ s\./);
    await text.waitFor(WAIT);
    // 13½ of 15 idle minutes have passed (and a little real time since the last API answer).
    const left = Number(/in (\d+) s/.exec((await text.textContent()) ?? '')?.[1]);
    expect(left).toBeGreaterThan(60);
    expect(left).toBeLessThanOrEqual(90);
    const stayed = page.waitForResponse((r) => r.url().endsWith('/api/me') && r.status() === 200);
    await warning.getByRole('button', { name: 'Stay signed in' }).click();
    await stayed;
    await warning.waitFor({ state: 'detached', ...WAIT });
    await page.clock.fastForward('13:30');
    await warning.waitFor(WAIT);
    await page.clock.fastForward('02:00');
    await page.getByText('You were signed out after 15 idle minutes.').waitFor(WAIT);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await context.close();
  });

  it('export: progress while it runs, the download, and its audit events', async () => {
    await go(admin, 'Export');
    await admin.getByLabel('Reason for exporting').fill('flows: month-end reconciliation');
    const held = gate();
    await admin.route('**/api/exports', async (route) => {
      await held.wait;
      await route.continue();
    });
    const download = admin.waitForEvent('download');
    await admin.getByRole('button', { name: 'Export CSV' }).click();
    const busy = admin.getByRole('button', { name: 'Exporting…' });
    await busy.waitFor();
    expect(await busy.getAttribute('aria-busy')).toBe('true');
    await admin.getByRole('status').filter({ hasText: '0 records so far (0.0 KiB)' }).waitFor();
    held.open();
    const saved = await download;
    const file = readFileSync((await saved.path()) as string, 'utf8');
    expect(file.trimEnd().split('\r\n')).toHaveLength(total + 1); // and the header line
    const exportId = /^coffer-export-(.+)\.csv$/.exec(saved.suggestedFilename())?.[1] ?? '';
    const done = admin.getByRole('status').filter({ hasText: 'Export finished' });
    await done.getByText(`${total} records`).waitFor(WAIT);
    await done.getByRole('cell', { name: 'export.finish' }).waitFor(WAIT);
    await admin.unroute('**/api/exports');
    expect(await events('export.start', exportId)).toEqual([
      { reason: 'flows: month-end reconciliation', outcome: 'success' },
    ]);
    expect((await events('export.finish', exportId)).map((e) => e.outcome)).toEqual(['success']);
  });

  it('people: re-send an expired invite; the invitee accepts at phone width in dark mode; reset and revoke confirm first', async () => {
    await go(admin, 'People');
    await admin.getByLabel('Email').fill(INVITEE);
    await admin.getByLabel('Role').selectOption('viewer');
    await admin.getByRole('button', { name: 'Create invite' }).click();
    const first = await admin.getByLabel('One-time invite link').inputValue();
    await admin.getByRole('button', { name: 'Done' }).click();
    const [user] = await stack.db.owner<{ id: string }[]>`SELECT id FROM users WHERE email = ${INVITEE}`;
    const id = user?.id ?? '';
    await stack.db.owner`UPDATE invites SET expires_at = now() - interval '1 minute' WHERE user_id = ${id}`;
    await admin.reload();
    const row = admin.getByRole('row').filter({ hasText: INVITEE });
    await row.getByText('invite expired').waitFor(WAIT);
    await row.getByRole('button', { name: `Re-send invite for ${INVITEE}` }).click();
    await admin.getByRole('heading', { name: 'New invite link' }).waitFor();
    const second = await admin.getByLabel('One-time invite link').inputValue();
    expect(second).not.toBe(first);
    expect((await events('user.reinvite', id)).length).toBe(1);

    const { context, page: stale } = await open({ phone: true, dark: true });
    await stale.goto(first);
    await stale.getByText('This invite link was used already or has expired.').waitFor(WAIT);
    const invitee = await newPage(context);
    await invitee.goto(second);
    await invitee.getByText('You were invited as viewer').waitFor(WAIT);
    await invitee.getByLabel('New password').fill(INVITEE_PASSWORD);
    await invitee.getByText('Meets the policy').waitFor(WAIT);
    await invitee.getByLabel('Repeat the password').fill(INVITEE_PASSWORD);
    expect((await axeSerious(invitee)).serious).toEqual([]);
    await invitee.getByRole('button', { name: 'Set password' }).click();
    await invitee.getByLabel('Your key fingerprint').waitFor(WAIT);
    expect((await axeSerious(invitee)).serious).toEqual([]);
    expect(await statusOf(INVITEE)).toBe('unconfirmed');
    await context.close();

    await admin.reload();
    await row.getByText('unconfirmed').waitFor(WAIT);
    await row.getByRole('button', { name: `Reset… ${INVITEE}` }).click();
    const reset = admin.getByRole('dialog', { name: `Reset ${INVITEE}?` });
    await reset.getByRole('button', { name: 'Cancel' }).click();
    await reset.waitFor({ state: 'detached' });
    expect(await statusOf(INVITEE)).toBe('unconfirmed');
    expect(await events('user.reset', id)).toEqual([]);
    await row.getByRole('button', { name: `Reset… ${INVITEE}` }).click();
    expect((await axeSerious(admin)).serious).toEqual([]);
    await reset.getByRole('button', { name: 'Reset account' }).click();
    await admin.getByRole('heading', { name: 'Reset link' }).waitFor(WAIT);
    expect(await statusOf(INVITEE)).toBe('invited');
    expect((await events('user.reset', id)).length).toBe(1);

    await row.getByRole('button', { name: `Revoke… ${INVITEE}` }).click();
    const revoke = admin.getByRole('dialog', { name: `Revoke ${INVITEE}?` });
    await revoke.getByText('This cannot be undone').waitFor();
    expect(await statusOf(INVITEE)).toBe('invited');
    await revoke.getByRole('button', { name: 'Revoke access' }).click();
    await admin.getByText(`${INVITEE} was revoked.`).waitFor(WAIT);
    await row.getByText('revoked', { exact: true }).waitFor(WAIT);
    expect(await statusOf(INVITEE)).toBe('revoked');
    expect((await events('user.revoke', id)).length).toBe(1);
  });

  it('audit: target, outcome and date filters; the filtered view as CSV', async () => {
    await stack.db.runtime.begin(async (tx) => {
      const e = { actor: 'ingest', action: 'test.flow', target: TARGET } as const;
      const day = new Date('2026-03-10T10:00:00Z');
      await appendAudit(tx, { ...e, outcome: 'failure' }, day);
      await appendAudit(tx, { ...e, outcome: 'failure', reason: '=SUM(A1)' }, day);
      await appendAudit(tx, { ...e, outcome: 'denied' }, day);
      await appendAudit(tx, { ...e, outcome: 'success' }, new Date('2026-03-11T10:00:00Z'));
    });
    const table = 'Audit events, newest first';
    await go(admin, 'Audit log');
    await admin.getByLabel('Target').fill(TARGET);
    await admin.getByRole('button', { name: 'Apply filters' }).click();
    await expectRows(admin, table, 4);
    await admin.getByLabel('Outcome').selectOption('failure');
    await admin.getByRole('button', { name: 'Apply filters' }).click();
    await expectRows(admin, table, 2);
    expect(await rows(admin, table).getByText('failure', { exact: true }).count()).toBe(2);
    await admin.getByLabel('Outcome').selectOption('');
    await admin.getByLabel('From', { exact: true }).fill('2026-03-10');
    await admin.getByLabel('To', { exact: true }).fill('2026-03-10');
    await admin.getByRole('button', { name: 'Apply filters' }).click();
    await expectRows(admin, table, 3);
    expect(
      await rows(admin, table)
        .getByText(/^Mar 10, 2026, 10:00:00 AM UTC$/)
        .count(),
    ).toBe(3);

    const download = admin.waitForEvent('download');
    await admin.getByRole('button', { name: 'Export view as CSV' }).click();
    const [header, ...lines] = readFileSync((await (await download).path()) as string, 'utf8')
      .trimEnd()
      .split('\r\n');
    expect(header).toBe('seq,at,actor,actorEmail,action,target,reason,outcome,origin,details');
    const stored = await stack.db.owner<{ seq: string }[]>`SELECT seq FROM audit_events
      WHERE target = ${TARGET} AND at >= '2026-03-10T00:00:00Z' AND at < '2026-03-11T00:00:00Z' ORDER BY seq DESC`;
    expect(lines.map((l) => l.split(',')[0])).toEqual(stored.map((s) => String(s.seq)));
    // A cell a spreadsheet would run as a formula is prefixed.
    expect(lines.filter((l) => l.includes(",'=SUM(A1),failure,"))).toHaveLength(1);
  });

  it('saw zero CSP or integrity violations and no page error', () => {
    expect(violations).toEqual([]);
  });
});
