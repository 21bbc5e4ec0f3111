/**
 * Registering, listing and removing one's own passkeys (issue 16 item 1). Registration needs the
 * password (its proof covers every field of the request, as a password change does): a stolen
 * session cookie alone cannot turn into a lasting way in. The vault checks the registration and,
 * over a second challenge, an assertion by the new credential with user verification.
 */
import type { AdminRequest } from '@coffer/protocol';
import {
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type postgres from 'postgres';
import { appendAudit } from '../audit.ts';
import {
  consumePasskeyChallenge,
  issuePasskeyChallenge,
  type PasskeySettings,
  parseResponse,
  passkeysConfigured,
} from './passkey-challenges.ts';
import { auditOrRefuse } from './records.ts';
import { AdminError, type AdminHandlers, type OpContext } from './router.ts';
import { consumeChallenge } from './sessions.ts';
import { requirePasswordProof } from './signin-integrity.ts';

type RegisterOps = 'passkeys.register-options' | 'passkeys.register' | 'passkeys.list' | 'passkeys.remove';

export function passkeyRegisterHandlers(
  sql: postgres.Sql,
  settings: PasskeySettings | undefined,
): Pick<AdminHandlers, RegisterOps> {
  return {
    'passkeys.register-options': (_req, ctx) => registerOptions(sql, passkeysConfigured(settings), ctx),
    'passkeys.register': (req, ctx) => register(sql, passkeysConfigured(settings), req, ctx),
    'passkeys.list': (_req, { caller }) => list(sql, caller.userId),
    'passkeys.remove': async (req, ctx) => {
      await requirePasskeySession(sql, settings, ctx, 'passkey.remove', req.origin, true);
      return remove(sql, req, ctx);
    },
  };
}

/**
 * With COFFER_REQUIRE_PASSKEY_FOR_KEY_ADMINS, a key-admin's own passkeys are what stands between a
 * phished password (and TOTP code) and key management: such a session may neither add the
 * phisher's authenticator to a key-admin who has a passkey nor remove one (to make room). The
 * first passkey is still added from a password session (trust on first use, as for TOTP).
 */
async function requirePasskeySession(
  sql: postgres.Sql,
  settings: PasskeySettings | undefined,
  { now, caller }: OpContext<RegisterOps>,
  action: string,
  origin: string,
  always: boolean,
): Promise<void> {
  if (!settings?.requireForKeyAdmins || caller.role !== 'key-admin' || caller.passkey) return;
  if (!always) {
    const [has] = await sql`SELECT 1 FROM passkeys WHERE user_id = ${caller.userId} LIMIT 1`;
    if (!has) return;
  }
  await sql.begin((tx) =>
    appendAudit(
      tx,
      {
        actor: caller.userId,
        action,
        target: null,
        outcome: 'denied',
        origin,
        details: { reason: 'passkey-required' },
      },
      now,
    ),
  );
  throw new AdminError('passkey-required', `a key-admin must sign in with a passkey to ${action}`);
}

/**
 * A passkey sign-in is an MFA session, so a passkey is a second factor: as for TOTP (issue 9 item
 * 3), a confirmed account's password alone must not add one, or a stolen password becomes
 * "password and passkey" for reveal and export under COFFER_REQUIRE_MFA. A confirmed account adds
 * one from a session opened with its authenticator or a passkey; before confirmation (no key, no
 * authority) it is trust on first use, as TOTP is.
 */
async function requireSecondFactor(sql: postgres.Sql, { now, caller }: OpContext<'passkeys.register'>, origin: string) {
  if (caller.status !== 'active' || caller.mfa) return;
  await sql.begin((tx) =>
    appendAudit(
      tx,
      {
        actor: caller.userId,
        action: 'passkey.add',
        target: null,
        outcome: 'denied',
        origin,
        details: { reason: 'mfa-required' },
      },
      now,
    ),
  );
  throw new AdminError(
    'mfa-required',
    'a confirmed account adds a passkey from a session opened with its authenticator or a passkey',
  );
}

async function registerOptions(
  sql: postgres.Sql,
  settings: PasskeySettings,
  { now, caller }: OpContext<'passkeys.register-options'>,
) {
  const existing = await sql<{ credential_id: string; transports: string[] }[]>`
    SELECT credential_id, transports FROM passkeys WHERE user_id = ${caller.userId}`;
  const creation = await issuePasskeyChallenge(sql, 'register', caller.userId, now);
  const assertion = await issuePasskeyChallenge(sql, 'register', caller.userId, now);
  const options = await generateRegistrationOptions({
    rpName: 'Coffer',
    rpID: settings.rpId,
    userName: caller.email,
    userDisplayName: caller.email,
    // The user handle is the user id: a sign-in checks that the credential's row still names it.
    userID: Buffer.from(caller.userId, 'utf8'),
    challenge: Buffer.from(creation.nonce, 'base64url'),
    attestationType: 'none',
    excludeCredentials: existing.map((c) => ({ id: c.credential_id, transports: c.transports })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    supportedAlgorithmIDs: [-7, -8, -257],
    // Ask for PRF (CTAP2 hmac-secret) at creation: a credential made without it never offers it.
    extensions: { prf: {} } as NonNullable<Parameters<typeof generateRegistrationOptions>[0]['extensions']>,
  });
  return {
    creationChallengeId: creation.id,
    options: JSON.stringify(options),
    assertion,
    rpId: settings.rpId,
  };
}

async function register(
  sql: postgres.Sql,
  settings: PasskeySettings,
  req: AdminRequest<'passkeys.register'>,
  ctx: OpContext<'passkeys.register'>,
) {
  const { now, caller } = ctx;
  await requirePasskeySession(sql, settings, ctx, 'passkey.add', req.origin, false);
  await requireSecondFactor(sql, ctx, req.origin);
  const password = await consumeChallenge(sql, req.challengeId, now);
  const creationNonce = await consumePasskeyChallenge(sql, req.creationChallengeId, 'register', caller.userId, now);
  const assertionNonce = await consumePasskeyChallenge(sql, req.assertionChallengeId, 'register', caller.userId, now);
  const [u] = await sql<{ password_verifier: string | null; key_version: number | null }[]>`
    SELECT password_verifier, key_version FROM users WHERE id = ${caller.userId}`;
  requirePasswordProof(u?.password_verifier, password, 'passkeys.register', req, [
    caller.userId,
    'passkey-register',
    req.session,
  ]);
  if (u.key_version !== req.keyVersion) throw new AdminError('conflict', 'the key version changed; sign in again');
  const registration = await verifyRegistrationResponse({
    response: parseResponse(req.registration),
    expectedChallenge: creationNonce,
    expectedOrigin: settings.origin,
    expectedRPID: settings.rpId,
    requireUserVerification: true,
  }).catch(() => ({ verified: false as const }));
  if (!registration.verified) throw new AdminError('bad-signature', 'the passkey registration does not verify');
  const credential = registration.registrationInfo.credential;
  // The new credential must also answer an assertion, with user verification, for this origin.
  const assertion = parseResponse<Parameters<typeof verifyAuthenticationResponse>[0]['response']>(req.assertion);
  if (assertion.id !== credential.id) throw new AdminError('bad-request', 'the assertion is by another credential');
  const checked = await verifyAuthenticationResponse({
    response: assertion,
    expectedChallenge: assertionNonce,
    expectedOrigin: settings.origin,
    expectedRPID: settings.rpId,
    credential,
    requireUserVerification: true,
  }).catch(() => ({ verified: false as const, authenticationInfo: undefined }));
  if (!checked.verified) throw new AdminError('bad-signature', 'the passkey assertion does not verify');
  await sql.begin(async (tx) => {
    const [taken] = await tx`SELECT 1 FROM passkeys WHERE credential_id = ${credential.id}`;
    if (taken) throw new AdminError('conflict', 'this passkey is registered already');
    await tx`INSERT INTO passkeys (credential_id, user_id, public_key, counter, transports, name, wrapped_key,
                                   key_version, created_at)
      VALUES (${credential.id}, ${caller.userId}, ${Buffer.from(credential.publicKey)},
              ${checked.authenticationInfo.newCounter}, ${credential.transports ?? []}, ${req.name},
              ${req.wrappedKey === null ? null : Buffer.from(req.wrappedKey, 'base64')}, ${req.keyVersion}, ${now})`;
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: 'passkey.add',
        target: credential.id,
        outcome: 'success',
        origin: req.origin,
        details: { unlock: req.wrappedKey !== null },
      },
      now,
    );
  });
  return { credentialId: credential.id };
}

async function list(sql: postgres.Sql, userId: string) {
  const rows = await sql<
    { credential_id: string; name: string; created_at: Date; last_used_at: Date | null; unlock: boolean }[]
  >`SELECT credential_id, name, created_at, last_used_at, wrapped_key IS NOT NULL AS unlock
    FROM passkeys WHERE user_id = ${userId} ORDER BY created_at`;
  return {
    items: rows.map((r) => ({
      id: r.credential_id,
      name: r.name,
      createdAt: r.created_at.toISOString(),
      lastUsedAt: r.last_used_at?.toISOString() ?? null,
      unlock: r.unlock,
    })),
  };
}

async function remove(
  sql: postgres.Sql,
  req: AdminRequest<'passkeys.remove'>,
  { now, caller }: OpContext<'passkeys.remove'>,
) {
  await sql.begin(async (tx) => {
    // Only one's own: the row and its wrap of the user key go in one statement.
    const gone = await tx`DELETE FROM passkeys WHERE credential_id = ${req.credentialId} AND user_id = ${caller.userId}
      RETURNING credential_id`;
    if (gone.length === 0) throw new AdminError('not-found', 'no such passkey');
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: 'passkey.remove',
        target: req.credentialId,
        outcome: 'success',
        origin: req.origin,
      },
      now,
    );
  });
}
