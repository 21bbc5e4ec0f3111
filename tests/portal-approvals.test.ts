/**
 * The two-person export rule in the console (issue 16, item 4a), in Chromium against a real vault,
 * PostgreSQL and NATS: a viewer's export above the threshold is refused with a way to request it;
 * a second key-admin approves it on the Approvals screen; the viewer runs it there and gets the
 * file. A waiting break-glass recovery (item 4c) shows there too, and a key-admin cancels it.
 * Strict CSP and axe-core watch the Approvals screen of both people.
 */
import { readFileSync } from 'node:fs';
import { runRecovery } from '@coffer/cli';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, enrolUser, signIn, startAdminStack } from './support/admin-stack.ts';
import {
  axeSerious,
  browserTestsAvailable,
  closePortal,
  go,
  servePortal,
  signInThroughForm,
  watchViolations,
} from './support/portal-browser.ts';

const available = await browserTestsAvailable();

const VIEWER = { email: 'vic.viewer@example.com', password: 'saffron-harbour-lantern-4471-gently' };
const SECOND = { email: 'sam.second@example.com', password: 'cobalt-orchard-violin-8812-calmly' };

describe.skipIf(!available)('two-person export approval in Chromium', () => {
  let stack: AdminStack;
  let browser: Browser;
  let url: string;
  const problems: string[] = [];
  const contexts: BrowserContext[] = [];

  async function open(): Promise<Page> {
    const context = await browser.newContext({ acceptDownloads: true });
    contexts.push(context);
    const page = await context.newPage();
    await watchViolations(page, problems);
    return page;
  }

  const signInAs = (page: Page, who: { email: string; password: string }) => signInThroughForm(page, url, who);

  async function axe(page: Page, name: string): Promise<void> {
    for (const finding of (await axeSerious(page)).serious) problems.push(`${name}: ${finding}`);
  }

  beforeAll(async () => {
    stack = await startAdminStack({ twoPerson: { exportApprovalAbove: 2, recoveryDelayMinutes: 60 } });
    for (const pan of ['4111111111111111', '5555555555554444', '4012888888881881']) await stack.addRecord('pan', pan);
    const admin = await signIn(stack.app);
    await enrolUser(stack.app, admin, SECOND.email, 'key-admin', SECOND.password);
    await enrolUser(stack.app, admin, VIEWER.email, 'viewer', VIEWER.password);
    ({ url, browser } = await servePortal(stack));
  });
  afterAll(() => closePortal(contexts, browser, stack));

  it('request → a second key-admin approves on the Approvals screen → the requester runs it', async () => {
    const viewer = await open();
    await signInAs(viewer, VIEWER);
    await go(viewer, 'Export');
    await viewer.getByLabel('Type').selectOption('pan');
    await viewer.getByLabel('Reason for exporting').fill('CHG-77 quarterly reconciliation');
    await viewer.getByRole('button', { name: 'Export CSV' }).click();
    await viewer.getByRole('alert').getByText('A second key-admin must approve this first').waitFor();
    await viewer.getByRole('button', { name: 'Request approval' }).click();
    await viewer.getByText('Requested an export of 3 records').waitFor();
    await go(viewer, 'Approvals');
    await viewer.getByText('Waiting for a second key-admin').waitFor();
    // The requester is offered no way to approve their own request.
    expect(await viewer.getByRole('button', { name: /Approve/ }).count()).toBe(0);
    await axe(viewer, 'approvals (requester)');

    const second = await open();
    await signInAs(second, SECOND);
    await go(second, 'Approvals');
    await axe(second, 'approvals (key-admin)');
    await second.getByRole('button', { name: `Approve the export requested by ${VIEWER.email}` }).click();
    await second.getByText(`Approved the export requested by ${VIEWER.email}.`).waitFor();

    await viewer.reload();
    await viewer.getByRole('heading', { level: 1, name: 'Approvals' }).waitFor();
    const download = viewer.waitForEvent('download');
    await viewer.getByRole('button', { name: 'Run export' }).click();
    const file = readFileSync((await (await download).path()) as string, 'utf8');
    expect(file.trim().split('\r\n')).toHaveLength(4);
    await viewer.getByText('Export saved as').waitFor();
    await viewer.getByText('used', { exact: true }).waitFor();

    const [approve] = await stack.db.owner`SELECT actor FROM audit_events WHERE action = 'export.approve'`;
    const [secondUser] = await stack.db.owner`SELECT id::text FROM users WHERE email = ${SECOND.email}`;
    expect(approve?.actor).toBe(secondUser?.id);
    expect(problems).toEqual([]);
  });

  it('a key-admin sees a waiting break-glass recovery on the Approvals screen and cancels it', async () => {
    const { userId } = await runRecovery({
      bus: stack.adminBus,
      shares: stack.ceremony.shares.slice(0, 2) as string[],
      email: 'mallory@example.com',
      password: 'umber-pylon-quarry-3319-softly',
      trustRoot: stack.ceremony.trustRoot,
    });
    const page = await open();
    await signInAs(page, SECOND);
    await go(page, 'Approvals');
    await page.getByRole('heading', { name: 'Break-glass recoveries waiting' }).waitFor();
    await axe(page, 'approvals (recovery waiting)');
    await page.getByRole('button', { name: 'Cancel recovery of mallory@example.com' }).click();
    await page.getByText('Cancelled the recovery of mallory@example.com; the account is revoked.').waitFor();
    const [user] = await stack.db.owner`SELECT status FROM users WHERE id = ${userId}`;
    expect(user?.status).toBe('revoked');
    expect(problems).toEqual([]);
  });
});
