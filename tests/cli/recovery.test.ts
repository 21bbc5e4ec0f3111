import { sealTotpSecret } from '@coffer/admin';
import { callVault } from '@coffer/bus';
import { runCeremony, runRecovery } from '@coffer/cli';
import { orgKeyWrapBinding, PrivateKey, PublicKey, recipientPublicKey, wrapPrivateKey } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const NEW_PASSWORD = 'saffron-quarry-meridian-6620-slowly';

describe.skipIf(!available)('coffer recover: every key-admin password lost', () => {
  let stack: AdminStack;
  let recordId: string;
  beforeAll(async () => {
    stack = await startAdminStack(); // shares 3, threshold 2
    recordId = await stack.addRecord('ssn', '078-05-1120');
  });
  afterAll(() => stack?.close());

  const recover = (shares: string[], email = 'officer@example.com') =>
    runRecovery({ bus: stack.adminBus, shares, email, password: NEW_PASSWORD, trustRoot: stack.ceremony.trustRoot });

  it('names a mistyped share and refuses too few shares or shares of another set', async () => {
    const [a, b] = stack.ceremony.shares as [string, string];
    const typo = b.slice(0, 20) + (b[20] === 'A' ? 'B' : 'A') + b.slice(21);
    await expect(recover([a, typo])).rejects.toThrow(/^share 2: .*checksum/);
    await expect(recover([a])).rejects.toThrow(/need 2 shares/);
    const other = await runCeremony({
      adminEmail: 'x@example.com',
      adminPassword: NEW_PASSWORD,
      shares: 3,
      threshold: 2,
      dataKeyDays: 90,
      horizonDays: 90,
      suite: 'x25519',
      now: new Date(),
    });
    await expect(recover([a, other.shares[1] as string])).rejects.toThrow(/another recovery key/);
    expect(await stack.db.owner`SELECT 1 FROM users WHERE email = 'officer@example.com'`).toHaveLength(0);
  });

  it('rebuilds the recovery key from 2 of 3 shares and makes a key-admin who can read everything', async () => {
    const shares = [stack.ceremony.shares[2], stack.ceremony.shares[0]] as string[];
    const { userId, fingerprint } = await recover(shares);
    expect(fingerprint).toMatch(/^\d{5}( \d{5}){5}$/);
    const officer = await signIn(stack.app, 'officer@example.com', NEW_PASSWORD);
    expect(officer.res.json().user).toMatchObject({ id: userId, role: 'key-admin' });
    const revealed = await stack.app.inject({
      method: 'POST',
      url: `/api/records/${recordId}/reveal`,
      headers: { cookie: officer.cookie, 'x-coffer-csrf': officer.csrf },
      payload: { reason: 'break-glass drill' },
    });
    expect(revealed.json()).toMatchObject({ value: '078-05-1120' });
    // The new key-admin holds the org key too: it can confirm people and make keys.
    const made = await stack.app.inject({
      method: 'POST',
      url: '/api/keys/pregenerate',
      headers: { cookie: officer.cookie, 'x-coffer-csrf': officer.csrf },
      payload: { count: 1 },
    });
    expect(made.statusCode).toBe(201);
    const events = await stack.db.owner`SELECT actor, outcome FROM audit_events WHERE action = 'recovery.enrol'`;
    expect(events).toEqual([{ actor: 'coffer recover', outcome: 'success' }]);
  });

  it('refuses an unanswered or replayed challenge', async () => {
    const begun = await callVault(stack.adminBus, 'recovery.begin', { v: 1, origin: 'test' });
    const attempt = {
      v: 1 as const,
      challengeId: begun.challengeId,
      answer: Buffer.alloc(32, 1).toString('base64url'),
      admin: {
        id: '01a2282e-0000-7000-8000-0000000000aa',
        email: 'intruder@example.com',
        passwordVerifier: 'x',
        keyVersion: 1,
        publicKey: 'A'.repeat(43),
        wrappedPrivateKey: 'AA==',
        certificateSignature: 'A'.repeat(86),
      },
      orgKey: 'AA==',
      dataKeys: [],
      origin: 'test',
    };
    await expect(callVault(stack.adminBus, 'recovery.enrol', attempt)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    await expect(callVault(stack.adminBus, 'recovery.enrol', attempt)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    expect(await stack.db.owner`SELECT 1 FROM users WHERE email = 'intruder@example.com'`).toHaveLength(0);
  });
  it('checks the recovered org key against the pinned trust root, not the database', async () => {
    // A database writer makes an org key of their own and wraps it to the recovery public key,
    // which is public; with the org row pointing at it, the database agrees with itself.
    const [org] = await stack.db.owner<
      { trust_root: string; org_key_id: string; recovery_key_id: string; recovery_public_key: string }[]
    >`SELECT trust_root, org_key_id, recovery_key_id, recovery_public_key FROM org`;
    if (!org) throw new Error('no org row');
    const forged = PrivateKey.generate('ed25519');
    const recoveryPublic = PublicKey.fromBase64url('x25519', org.recovery_public_key);
    const forgedCopy = wrapPrivateKey(forged, recoveryPublic, orgKeyWrapBinding(org.org_key_id, org.recovery_key_id));
    const where = stack.db
      .owner`key_kind = 'org' AND recipient_kind = 'recovery' AND recipient_id = ${org.recovery_key_id}`;
    const [original] = await stack.db.owner<{ wrapped: Buffer }[]>`SELECT wrapped FROM wrapped_keys WHERE ${where}`;
    const shares = [stack.ceremony.shares[0], stack.ceremony.shares[1]] as string[];
    try {
      await stack.db.owner`UPDATE wrapped_keys SET wrapped = ${forgedCopy} WHERE ${where}`;
      await expect(recover(shares, 'swapped-copy@example.com')).rejects.toThrow(/not the pinned trust root/);
      await stack.db.owner`UPDATE org SET trust_root = ${forged.publicKey.toBase64url()}`;
      await expect(recover(shares, 'swapped-root@example.com')).rejects.toThrow(/trust root is not the pinned one/);
      const made = await stack.db.owner`SELECT 1 FROM users WHERE email LIKE 'swapped-%'`;
      expect(made).toHaveLength(0);
    } finally {
      await stack.db.owner`UPDATE org SET trust_root = ${org.trust_root}`;
      await stack.db.owner`UPDATE wrapped_keys SET wrapped = ${original?.wrapped ?? Buffer.alloc(0)} WHERE ${where}`;
    }
  });

  it("enrols the recovered key-admin's authenticator with it (no key-admin may be left to issue a code)", async () => {
    const shares = [stack.ceremony.shares[0], stack.ceremony.shares[1]] as string[];
    const email = 'second.officer@example.com';
    const secret = new Secret({ size: 20 });
    const { userId } = await runRecovery({
      bus: stack.adminBus,
      shares,
      email,
      password: NEW_PASSWORD,
      trustRoot: stack.ceremony.trustRoot,
      enrolTotp: (admin) => sealTotpSecret(recipientPublicKey(admin.publicKey), admin.id, secret).toString('base64'),
    });
    const [row] = await stack.db.owner`SELECT totp_sealed FROM users WHERE id = ${userId}`;
    expect(row?.totp_sealed).toBeInstanceOf(Buffer);
    const code = new TOTP({ secret, algorithm: 'SHA1', digits: 6, period: 30 }).generate({
      timestamp: stack.now().getTime(),
    });
    const officer = await signIn(stack.app, email, NEW_PASSWORD, code);
    expect(officer.res.json().user).toMatchObject({ id: userId, role: 'key-admin' });
  });
});
