import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, callVault, connectNatsBus } from '@coffer/bus';
import { PrivateKey, PublicKey, signDataKeyBundle, verifyVaultReplyKey } from '@coffer/crypto';
import { busNames } from '@coffer/protocol';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import type { Vault } from '@coffer/vault';
import type { VaultDatabase } from '@coffer/vault/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startBareVault } from '../../testing/index.ts';
import { runCeremony } from '../ceremony.ts';
import { initCommand } from './init.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const PASSWORD = 'correct-quartz-lantern-harbour-91';

describe.skipIf(!available)('coffer init, against a running vault over the bus', () => {
  let bare: Awaited<ReturnType<typeof startBareVault>>;
  let db: VaultDatabase;
  let vault: Vault;
  let adminBus: Bus;
  let passwordFile: string;

  beforeAll(async () => {
    bare = await startBareVault();
    const { url, namespace } = bare;
    ({ db, vault } = bare);
    passwordFile = join(tmpdir(), `coffer-init-${namespace}`);
    adminBus = await connectNatsBus({ url, names: busNames(namespace), service: 'admin' });
    writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
    vi.stubEnv('NATS_URL', url);
    vi.stubEnv('COFFER_BUS_NAMESPACE', namespace);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await adminBus?.close();
    await bare?.close();
  });

  const counts = async () => {
    const [row] = await db.owner`SELECT
      (SELECT count(*)::int FROM org) AS org, (SELECT count(*)::int FROM users) AS users,
      (SELECT count(*)::int FROM data_keys) AS data_keys, (SELECT count(*)::int FROM wrapped_keys) AS wrapped,
      (SELECT count(*)::int FROM audit_events) AS audit`;
    return row;
  };

  it('refuses material whose signatures do not verify, and stores nothing', async () => {
    const { request } = await runCeremony({
      adminEmail: 'ka@example.com',
      adminPassword: PASSWORD,
      shares: 5,
      threshold: 3,
      dataKeyDays: 90,
      horizonDays: 90,
      suite: 'x25519',
      now: new Date(),
    });
    const [first] = request.dataKeys;
    if (!first) throw new Error('no data key');
    first.signature = signDataKeyBundle(PrivateKey.generate('ed25519'), first.bundle);
    await expect(callVault(adminBus, 'bootstrap', request)).rejects.toThrow(/bad-signature/);
    expect(await counts()).toEqual({ org: 0, users: 0, data_keys: 0, wrapped: 0, audit: 0 });
  });

  it('refuses a weak password before anything is sent', async () => {
    writeFileSync(`${passwordFile}-weak`, 'password123456789\n');
    await expect(initCommand(['--email', 'ka@example.com', '--password-file', `${passwordFile}-weak`])).rejects.toThrow(
      /password refused/,
    );
    expect((await counts())?.org).toBe(0);
  });

  it('stores the org, the key-admin and a year of data keys, and prints the trust root and shares once', async () => {
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    try {
      await initCommand(['--email', 'ka@example.com', '--password-file', passwordFile]);
    } finally {
      write.mockRestore();
    }
    const printed = out.join('');
    const [org] = await db.owner`SELECT trust_root, recovery_threshold, recovery_shares FROM org`;
    expect(printed).toContain(org?.trust_root);
    expect(printed.match(/share \d: COFFER-SHARE-/g)).toHaveLength(5);
    expect(printed).not.toContain(PASSWORD);
    expect(org).toMatchObject({ recovery_threshold: 3, recovery_shares: 5 });
    // 90-day keys covering 365 days: 5 keys, each wrapped to the key-admin and the recovery key,
    // plus the org key wrapped to both.
    expect(await counts()).toEqual({ org: 1, users: 1, data_keys: 5, wrapped: 12, audit: 1 });
    const [admin] = await db.owner`SELECT role, status, password_verifier FROM users`;
    expect(admin).toMatchObject({ role: 'key-admin', status: 'active' });
    expect(admin?.password_verifier).toMatch(/^\$coffer-argon2id-ed25519\$/);
    expect((await vault.currentKey.check()).degraded).toBe(false);
    // The vault's reply key is certified by the org key, and its fingerprint printed to compare.
    const [certified] = await db.owner`SELECT public_key, certificate FROM vault_reply_keys`;
    expect(certified?.public_key).toBe(vault.replyKey);
    expect(() =>
      verifyVaultReplyKey(PublicKey.fromBase64url('ed25519', org?.trust_root), vault.replyKey, certified?.certificate),
    ).not.toThrow();
    expect(printed).toContain(PublicKey.fromBase64url('ed25519', vault.replyKey).fingerprint());
  });

  it('refuses to run against an initialised vault', async () => {
    const before = await counts();
    await expect(initCommand(['--email', 'other@example.com', '--password-file', passwordFile])).rejects.toThrow(
      /already initialised/,
    );
    expect(await counts()).toEqual(before);
  });
});
