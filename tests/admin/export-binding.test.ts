/**
 * Export binding (issue 9, item 4): an export's pages go only to the session that began it, only
 * for a short time, and only with records submitted before it began.
 */
import { callVault } from '@coffer/bus';
import { sessionTokenHash } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { closeInterruptedExports } from '@coffer/vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

describe.skipIf(!available)('export binding', () => {
  let stack: AdminStack;
  beforeAll(async () => {
    // The tests run the janitor's close themselves and count what it closed: the vault's own
    // minutely run must not close an export first.
    stack = await startAdminStack({ vaultJanitor: false });
    await stack.addRecord('secret', 'before-the-export-1');
    await stack.addRecord('secret', 'before-the-export-2');
    stack.advance(1000);
  });
  afterAll(() => stack?.close());

  const begin = (session: string) =>
    callVault(stack.adminBus, 'export.begin', {
      v: 1,
      session,
      reason: 'binding test',
      origin: 'test',
    });
  const page = (session: string, exportId: string) =>
    callVault(stack.adminBus, 'export.page', { v: 1, session, exportId, limit: 100 });

  it("serves pages to the session that began it, not to the same user's other session", async () => {
    const a = sessionTokenHash((await signIn(stack.app)).token);
    const b = sessionTokenHash((await signIn(stack.app)).token);
    const { exportId } = await begin(a);
    await expect(page(b, exportId)).rejects.toMatchObject({ code: 'not-found' });
    expect((await page(a, exportId)).records).toHaveLength(2);
  });

  it('serves no record submitted after the export began', async () => {
    const a = sessionTokenHash((await signIn(stack.app)).token);
    const { exportId } = await begin(a);
    stack.advance(1000);
    const late = await stack.addRecord('secret', 'after-the-export-began');
    const served = (await page(a, exportId)).records.map((r) => r.id);
    expect(served).toHaveLength(2);
    expect(served).not.toContain(late);
  });

  it('expires: a page more than 15 minutes after the start is refused', async () => {
    const a = sessionTokenHash((await signIn(stack.app)).token);
    const { exportId } = await begin(a);
    await stack.db.owner`UPDATE exports SET started_at = started_at - interval '16 minutes' WHERE id = ${exportId}`;
    await expect(page(a, exportId)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('closes an export never finished in the audit, with the count served (janitor and vault start)', async () => {
    await closeInterruptedExports(stack.db.owner, stack.now()); // the earlier tests' leftovers
    const a = sessionTokenHash((await signIn(stack.app)).token);
    const { exportId } = await begin(a);
    const served = (await page(a, exportId)).records.length;
    expect(served).toBeGreaterThan(0);
    // Not yet expired: another vault replica might still be serving it.
    expect(await closeInterruptedExports(stack.db.owner, stack.now())).toBe(0);
    await stack.db.owner`UPDATE exports SET started_at = started_at - interval '16 minutes' WHERE id = ${exportId}`;
    expect(await closeInterruptedExports(stack.db.owner, stack.now())).toBe(1);
    const [closed] = await stack.db.owner`SELECT outcome, details FROM audit_events
      WHERE action = 'export.finish' AND target = ${exportId}`;
    expect(closed).toMatchObject({ outcome: 'failure', details: { count: served, interrupted: true } });
    const [row] = await stack.db.owner`SELECT finished_at FROM exports WHERE id = ${exportId}`;
    expect(row?.finished_at).not.toBeNull();
  });
});

describe.skipIf(!available)('export cap and expiry on one clock, and closing at vault start', () => {
  let stack: AdminStack;
  beforeAll(async () => {
    stack = await startAdminStack({ vaultJanitor: false }); // as above
    await stack.addRecord('secret', 'stored-before-any-export-1');
    await stack.addRecord('secret', 'stored-before-any-export-2');
  });
  afterAll(() => stack?.close());

  const begin = (session: string) =>
    callVault(stack.adminBus, 'export.begin', { v: 1, session, reason: 'clock test', origin: 'test' });
  const page = (session: string, exportId: string) =>
    callVault(stack.adminBus, 'export.page', { v: 1, session, exportId, limit: 100 });

  it("caps by the database's clock when the vault's runs 20 minutes behind (nothing stored earlier is lost)", async () => {
    stack.advance(-20 * 60 * 1000);
    try {
      const a = sessionTokenHash((await signIn(stack.app)).token);
      const { exportId } = await begin(a);
      expect((await page(a, exportId)).records).toHaveLength(2);
    } finally {
      stack.advance(20 * 60 * 1000);
    }
  });

  it("caps by the database's clock when the vault's runs 20 minutes ahead (nothing stored later is served)", async () => {
    stack.advance(20 * 60 * 1000);
    try {
      const a = sessionTokenHash((await signIn(stack.app)).token);
      const { exportId } = await begin(a);
      const late = await stack.addRecord('secret', 'stored-after-the-export-began');
      const served = (await page(a, exportId)).records.map((r) => r.id);
      expect(served).toHaveLength(2);
      expect(served).not.toContain(late);
      // Nor does the fast clock expire it early: 20 minutes by the vault is no time by the database.
      expect((await page(a, exportId)).records).toHaveLength(2);
    } finally {
      stack.advance(-20 * 60 * 1000);
    }
  });

  it('closes every open export at vault start, even a fresh one, with the count served; no page after', async () => {
    const a = sessionTokenHash((await signIn(stack.app)).token);
    const { exportId } = await begin(a);
    const served = (await page(a, exportId)).records.length;
    expect(await closeInterruptedExports(stack.db.owner, stack.now())).toBe(0); // janitor: not expired
    expect(await closeInterruptedExports(stack.db.owner, stack.now(), true)).toBeGreaterThanOrEqual(1);
    const [closed] = await stack.db.owner`SELECT outcome, details FROM audit_events
      WHERE action = 'export.finish' AND target = ${exportId}`;
    expect(closed).toMatchObject({ outcome: 'failure', details: { count: served, interrupted: true } });
    await expect(page(a, exportId)).rejects.toMatchObject({ code: 'not-found' });
  });
});
