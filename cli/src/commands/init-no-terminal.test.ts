// `coffer init` as an operator's script runs it: a real CLI process with no terminal. Starting tsx
// takes a while on a loaded machine, hence the generous per-test timeouts (they catch hangs).
import { type Bus, connectNatsBus } from '@coffer/bus';
import { busNames } from '@coffer/protocol';
import { natsForTests, postgresAvailable, uniqueNamespace } from '@coffer/testkit';
import { startVault, type Vault } from '@coffer/vault';
import { createVaultDatabase, type VaultDatabase } from '@coffer/vault/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCoffer } from '../../testing/index.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const PASSWORD = 'correct-quartz-lantern-harbour-91';

describe.skipIf(!available)('coffer init without a terminal', () => {
  let db: VaultDatabase;
  let vault: Vault;
  let vaultBus: Bus;
  let env: Record<string, string>;
  const orgRows = async () => (await db.owner`SELECT 1 FROM org`).length;

  beforeAll(async () => {
    const url = (await natsForTests()) as string;
    const namespace = uniqueNamespace();
    db = await createVaultDatabase();
    vaultBus = await connectNatsBus({ url, names: busNames(namespace), service: 'vault' });
    vault = await startVault({
      sql: db.runtime,
      bus: vaultBus,
      log: pino({ level: 'silent' }),
      host: '127.0.0.1',
      port: 0,
    });
    env = { NATS_URL: url, COFFER_BUS_NAMESPACE: namespace };
  });
  afterAll(async () => {
    await vault?.close();
    await vaultBus?.close();
    await db?.drop();
  });

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
