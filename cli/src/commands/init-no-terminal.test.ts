// `coffer init` as an operator's script runs it: a real CLI process with no terminal. Starting tsx
// takes a while on a loaded machine, hence the generous per-test timeouts (they catch hangs).
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import type { VaultDatabase } from '@coffer/vault/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCoffer, startBareVault } from '../../testing/index.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const PASSWORD = 'correct-quartz-lantern-harbour-91';

describe.skipIf(!available)('coffer init without a terminal', () => {
  let bare: Awaited<ReturnType<typeof startBareVault>>;
  let db: VaultDatabase;
  let env: Record<string, string>;
  const orgRows = async () => (await db.owner`SELECT 1 FROM org`).length;

  beforeAll(async () => {
    bare = await startBareVault();
    ({ db, env } = bare);
  });
  afterAll(() => bare?.close());

  it('states the password policy before asking, then says how to give the password without a terminal', async () => {
    const run = await runCoffer(['init', '--email', 'ka@example.com'], { env, input: `${PASSWORD}\n` });
    expect(run.code).not.toBe(0);
    const policy = run.stderr.indexOf('password must be at least 15 characters');
    const how = run.stderr.indexOf('--password-file FILE (- reads standard input)');
    expect(policy).toBeGreaterThanOrEqual(0);
    expect(how).toBeGreaterThan(policy);
    expect(await orgRows()).toBe(0);
  }, 180_000);

  it('reads the password from standard input with --password-file -, enrolling TOTP with --totp-file -', async () => {
    const args = ['init', '--email', 'ka@example.com', '--password-file', '-', '--totp-file', '-'];
    const run = await runCoffer(args, { env, input: `${PASSWORD}\n` });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Coffer is initialised/);
    expect(run.stdout).not.toContain(PASSWORD);
    expect(await orgRows()).toBe(1);
    // issue 9 item 3: the first key-admin's authenticator is enrolled by the ceremony itself.
    expect(run.stdout).toMatch(/otpauth:\/\/totp\/Coffer:ka%40example\.com\?/);
    const [admin] = await db.owner`SELECT totp_sealed FROM users WHERE email = 'ka@example.com'`;
    expect(admin?.totp_sealed).not.toBeNull();
    // A new organisation is X-Wing unless told otherwise, signed into its configuration.
    expect(run.stdout).toContain('suite xwing');
    const [org] = await db.owner<{ config: { suite: string } }[]>`SELECT config FROM org`;
    expect(org?.config.suite).toBe('xwing');
    const keys = await db.owner<{ suite: string | null }[]>`SELECT bundle->>'suite' AS suite FROM data_keys`;
    expect(keys.map((k) => k.suite)).toEqual(keys.map(() => 'xwing'));
  }, 180_000);
});
