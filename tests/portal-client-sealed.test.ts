/**
 * What the portal shows of a record its submitter sealed (POST /v1/sealed-records), in Debian's
 * headless Chromium against a real stack (PostgreSQL, nats-server with the shipped permissions,
 * vault, ingest, admin): the last 4 are marked client-supplied, since nobody checked them, and a
 * revealed value that fails its type's rules raises an alert — the first point anyone can check it.
 * A record ingest sealed, beside it, gets neither.
 */
import AxeBuilder from '@axe-core/playwright';
import { type Planes, startPlanes } from '@coffer/cli';
import { createClient } from '@coffer/client';
import { PublicKey, recordBinding, seal } from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { submit, waitFor } from './support/http.ts';
import { browserTestsAvailable, launchChromium } from './support/portal-browser.ts';
import { BOOTSTRAP, type Infra, ingestLog, PLANES_DEFAULTS, startInfra, vaultLogger } from './support/stack.ts';

const available = await browserTestsAvailable();

// Sixteen digits that fail Luhn: what a client can seal that ingest would have refused. Its
// claimed last 4 are not even its own.
const BAD_PAN = '4111111111111112';
const CLAIMED = '4242';
const GOOD_PAN = '4000056655665556';

/**
 * axe-core on the part of the page this test adds to (tests/portal.test.ts checks the rest):
 * the serious or critical violations.
 */
async function axe(page: Page, selector: string): Promise<string[]> {
  const result = await new AxeBuilder({ page }).include(selector).analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

// One stack and one browser; argon2id sign-in and axe-core are slow on a busy 2-core machine, not a hang.
describe.skipIf(!available)('the portal on a client-sealed record', { timeout: 120_000 }, () => {
  let infra: Infra;
  let planes: Planes;
  let browser: Browser;
  const ids = { client: '', ingest: '' };

  beforeAll(async () => {
    infra = await startInfra();
    planes = await startPlanes({
      sql: infra.runtime,
      buses: {
        vault: await infra.connectBus('vault'),
        ingest: await infra.connectBus('ingest'),
        admin: await infra.connectBus('admin'),
      },
      logs: { vault: vaultLogger(infra), ingest: ingestLog(infra), admin: pino({ level: 'silent' }) },
      ...PLANES_DEFAULTS,
    });
    // Sealed here as a hostile or buggy client would: @coffer/client's seal validates, so the blob
    // is made by hand, to the key ingest publishes, and posted as the SDK posts it.
    const key = planes.ceremony?.request.dataKeys[0]?.bundle;
    if (!key) throw new Error('the ceremony made no data key');
    const id = newRecordId();
    const blob = seal(
      PublicKey.fromBase64url('x25519', key.publicKey),
      Buffer.from(BAD_PAN),
      recordBinding(id, 'pan', key.id),
    );
    const client = createClient({ ingest: planes.ingestUrl });
    const accepted = await client.submitSealed({
      id,
      type: 'pan',
      keyId: key.id,
      sealed: blob.toString('base64'),
      hint: CLAIMED,
      idempotencyKey: crypto.randomUUID(),
    });
    ids.client = accepted.id;
    const plain = await submit(planes.ingestUrl, { type: 'pan', value: GOOD_PAN });
    expect(plain.status).toBe(202);
    ids.ingest = plain.body.id as string;
    for (const recordId of [ids.client, ids.ingest])
      await waitFor(`record ${recordId} in the vault`, async () => {
        const [row] = await infra.runtime`SELECT 1 FROM records WHERE id = ${recordId}`;
        return row;
      });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await planes?.close();
    await infra?.close();
  });

  it('marks the client-supplied last 4, and alerts on reveal that the value is not a valid card number', async () => {
    // A context of its own: axe-core runs its frames in a page of the page's context.
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(planes.adminUrl as string);
    await page.getByLabel('Email').fill(BOOTSTRAP.adminEmail);
    await page.getByLabel('Password').fill(BOOTSTRAP.adminPassword);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Records' }).waitFor();

    // The marker is text in the cell, so a screen reader reads it with the digits; ingest's own
    // hint, in the next row, has none.
    await page.getByRole('cell', { name: `…${CLAIMED} client-supplied`, exact: true }).waitFor();
    expect(await page.getByRole('cell', { name: '…5556', exact: true }).count()).toBe(1);
    expect(await page.getByText('client-supplied', { exact: true }).count()).toBe(1);
    const findings = await axe(page, 'table');

    await page.getByRole('button', { name: `Reveal Card number ending ${CLAIMED} (client-supplied)` }).click();
    const dialog = page.getByRole('dialog', { name: `Reveal Card number ending ${CLAIMED}` });
    await dialog.getByText('The last 4 were given by the submitter').waitFor();
    await dialog.getByLabel('Reason for revealing').fill('ticket 9: chargeback on a card that fails Luhn');
    await dialog.getByRole('button', { name: 'Reveal' }).click();
    await dialog.getByLabel('Revealed value').waitFor();
    const alert = dialog.getByRole('alert');
    expect(await alert.textContent()).toBe(
      'This value is not a valid card number. Its submitter sealed it, so nothing checked it on the way in: treat it with care.',
    );
    await dialog.getByRole('button', { name: 'Show value' }).click();
    expect(await dialog.getByLabel('Revealed value').textContent()).toBe(BAD_PAN);
    findings.push(...(await axe(page, 'dialog')));
    await dialog.getByRole('button', { name: 'Done' }).click();

    // A valid value ingest sealed: no marker in its dialog, no alert on reveal.
    await page.getByRole('button', { name: 'Reveal Card number ending 5556', exact: true }).click();
    const other = page.getByRole('dialog', { name: 'Reveal Card number ending 5556' });
    await other.getByLabel('Reason for revealing').fill('ticket 10: refund');
    await other.getByRole('button', { name: 'Reveal' }).click();
    await other.getByRole('button', { name: 'Show value' }).click();
    expect(await other.getByLabel('Revealed value').textContent()).toBe(GOOD_PAN);
    expect(await other.getByRole('alert').count()).toBe(0);
    expect(await other.getByText('given by the submitter').count()).toBe(0);
    expect(findings).toEqual([]);
    await context.close();
  });
});
