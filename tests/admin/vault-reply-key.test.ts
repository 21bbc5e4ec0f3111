/**
 * Authenticated vault replies (issue 9, item 2) for an installation initialised before replies
 * were signed: its vault reply key has no certificate. An admin plane that requires signed replies
 * (the default) refuses every unsigned one; during the upgrade window
 * (COFFER_ACCEPT_UNSIGNED_VAULT_REPLIES) a key-admin certifies the key by the fingerprint the vault
 * logged, and from then on the replies are signed and verify against the pinned trust root.
 */
import { callVault, trustVaultReplies } from '@coffer/bus';
import { PrivateKey, PublicKey } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type AdminStack, call, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

describe.skipIf(!available)('a vault reply key certified after installation', () => {
  let stack: AdminStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('an admin plane requiring signed replies refuses an uncertified vault: 502, no session', async () => {
    stack = await startAdminStack({ certifyVaultKey: false });
    const res = await stack.app.inject({
      method: 'POST',
      url: '/api/session',
      payload: { email: 'key.admin@example.com', password: 'correct-quartz-lantern-harbour-91' },
    });
    expect(res.statusCode).toBe(502);
    expect(res.json().type).toMatch(/vault-reply-unauthenticated$/);
    expect(res.cookies.find((c) => c.name === '__Host-coffer')).toBeUndefined();
  });

  it('a key-admin certifies the key by its fingerprint; replies are signed from then on', async () => {
    stack = await startAdminStack({ certifyVaultKey: false, acceptUnsignedVaultReplies: true });
    const admin = await signIn(stack.app);
    const right = PublicKey.fromBase64url('ed25519', stack.vault.replyKey).fingerprint();
    const wrong = PrivateKey.generate('ed25519').publicKey.fingerprint();

    const refused = await call(stack.app, admin, 'POST', '/api/keys/vault-reply-key', { fingerprint: wrong });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().type).toMatch(/vault-key-mismatch$/);
    expect(await stack.db.owner`SELECT 1 FROM vault_reply_keys`).toHaveLength(0);

    const done = await call(stack.app, admin, 'POST', '/api/keys/vault-reply-key', { fingerprint: right });
    expect(done.statusCode).toBe(201);
    const [row] = await stack.db.owner`SELECT public_key FROM vault_reply_keys`;
    expect(row?.public_key).toBe(stack.vault.replyKey);
    const [audited] = await stack.db.owner`
      SELECT outcome FROM audit_events WHERE action = 'vault.certify' AND target = ${stack.vault.replyKey}`;
    expect(audited?.outcome).toBe('success');

    // The upgrade window closes: unsigned replies are refused again, and everything still works.
    trustVaultReplies(stack.adminBus, {
      trustRoot: PublicKey.fromBase64url('ed25519', stack.ceremony.trustRoot),
      acceptUnsigned: false,
    });
    expect((await call(stack.app, admin, 'GET', '/api/me')).statusCode).toBe(200);
    expect((await signIn(stack.app)).res.statusCode).toBe(200);
  });

  it('a certificate the trust root did not make is refused by the vault', async () => {
    stack = await startAdminStack({ certifyVaultKey: false, acceptUnsignedVaultReplies: true });
    const admin = await signIn(stack.app);
    const forged = callVault(stack.adminBus, 'keys.certify-vault', {
      v: 1,
      session: (await stack.db.owner`SELECT token_hash FROM sessions LIMIT 1`)[0]?.token_hash as string,
      key: stack.vault.replyKey,
      certificate: 'A'.repeat(86),
      origin: 'test',
    });
    await expect(forged).rejects.toMatchObject({ code: 'bad-signature' });
    expect(await stack.db.owner`SELECT 1 FROM vault_reply_keys`).toHaveLength(0);
    expect(admin.res.statusCode).toBe(200);
  });
});
