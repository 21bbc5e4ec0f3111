/**
 * Issue 15: `coffer suite` moves an X25519 org to X-Wing through the admin plane as a key-admin —
 * the real CLI process, a password file, the admin plane listening on a port — and rotates, so the
 * current key and every later one are X-Wing; the change is audited. A second run changes no suite
 * and does not rotate; a move back to X25519 is refused (409) and the run fails saying so.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runSuiteChange } from '@coffer/cli';
import { runCoffer } from '@coffer/cli/testing';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type AdminStack, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

describe.skipIf(!available)('coffer suite --to xwing (issue 15)', () => {
  let stack: AdminStack;
  let adminUrl: string;
  let dir: string;

  beforeAll(async () => {
    stack = await startAdminStack({ suite: 'x25519' });
    adminUrl = await stack.app.listen({ host: '127.0.0.1', port: 0 });
    dir = await mkdtemp(path.join(tmpdir(), 'coffer-suite-'));
    await writeFile(path.join(dir, 'password'), `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    await stack?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('moves the org to X-Wing and rotates into it; again changes nothing; back is refused', async () => {
    const db = stack.db.owner;
    // The suites of the current key (the newest window begun) and of every later one.
    const suites = async () =>
      (
        await db<{ suite: string }[]>`
          SELECT COALESCE(bundle->>'suite', 'x25519') AS suite FROM data_keys
          WHERE not_before >= (SELECT max(not_before) FROM data_keys WHERE not_before <= ${stack.now()})`
      ).map((k) => k.suite);
    expect(await suites()).toEqual(['x25519']);
    const base = ['--admin-url', adminUrl, '--email', ADMIN_EMAIL, '--password-file', path.join(dir, 'password')];

    const moved = await runCoffer(['suite', ...base, '--to', 'xwing']);
    expect(moved.stderr).toBe('');
    expect(moved.code).toBe(0);
    expect(moved.stdout).toContain('org suite x25519 → xwing (configuration version 2');
    expect(moved.stdout).toMatch(/rotated: \d+ data keys made in xwing/);
    expect(moved.stdout).toContain('coffer reseal --admin-url … --email … --suite x25519');
    // The rotation began a fresh X-Wing window: the current key and every later one are X-Wing.
    expect(new Set(await suites())).toEqual(new Set(['xwing']));
    const [org] = await db<{ config: { suite: string; version: number } }[]>`SELECT config FROM org`;
    expect(org?.config).toMatchObject({ suite: 'xwing', version: 2 });

    const keys = await db`SELECT count(*)::int AS n FROM data_keys`;
    const again = await runSuiteChange({ adminUrl, email: ADMIN_EMAIL, password: ADMIN_PASSWORD, to: 'xwing' });
    // Signed and stored again as version 3 (audited), but nothing changed, so nothing is rotated.
    expect(again).toMatchObject({ suite: 'xwing', version: 3, changed: false, rotated: null });
    expect(await db`SELECT count(*)::int AS n FROM data_keys`).toEqual(keys);

    const back = runSuiteChange({ adminUrl, email: ADMIN_EMAIL, password: ADMIN_PASSWORD, to: 'x25519' });
    await expect(back).rejects.toThrow(/\/api\/org\/suite: 409 .*suite-refused/);
    const [after] = await db<{ config: { suite: string; version: number } }[]>`SELECT config FROM org`;
    expect(after?.config).toMatchObject({ suite: 'xwing', version: 3 });

    const audit = await db<{ action: string; details: Record<string, unknown> }[]>`
      SELECT action, details FROM audit_events WHERE action = 'org.config' ORDER BY seq`;
    expect(audit.map((a) => a.details)).toEqual([
      expect.objectContaining({ fromSuite: 'x25519', suite: 'xwing', version: 2 }),
      expect.objectContaining({ fromSuite: 'xwing', suite: 'xwing', version: 3 }),
    ]);
  }, 180_000);
});
