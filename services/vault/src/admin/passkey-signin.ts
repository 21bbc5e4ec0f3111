/**
 * Sign-in with a passkey alone (issue 16 item 1). The admin plane gets a nonce, binds it to the
 * session it is about to open (challenge = SHA-256(nonce, session hash)), and the browser's
 * authenticator signs that; the vault checks the assertion against the stored public key, its own
 * origin and RP ID, user verification, the signature counter, and the user handle against the
 * row's user. A user-verified passkey is a second factor: the session counts as MFA.
 */
import { passkeySigninChallenge } from '@coffer/crypto';
import type { AdminRequest } from '@coffer/protocol';
import { type AuthenticationResponseJSON, verifyAuthenticationResponse } from '@simplewebauthn/server';
import type postgres from 'postgres';
import { appendAudit } from '../audit.ts';
import type { PasskeySettings } from './passkey-challenges.ts';
import * as challenges from './passkey-challenges.ts';
import { ABSOLUTE_MS, IDLE_MS } from './policy.ts';
import { AdminError, type AdminHandlers, type OpContext } from './router.ts';

type SigninOps = 'passkey.signin-options' | 'passkey.signin-begin' | 'passkey.signin-complete';

interface PasskeyRow {
  credential_id: string;
  user_id: string;
  public_key: Buffer;
  counter: string;
  transports: string[];
  wrapped_key: Buffer | null;
  key_version: number | null;
  email: string;
  role: string;
  status: string;
}

export function passkeySigninHandlers(
  sql: postgres.Sql,
  settings: PasskeySettings | undefined,
): Pick<AdminHandlers, SigninOps> {
  return {
    'passkey.signin-options': async (_req, { now }) => {
      const { rpId } = challenges.passkeysConfigured(settings);
      return { challenge: await challenges.issuePasskeyChallenge(sql, 'signin', null, now), rpId };
    },
    'passkey.signin-begin': async (req) => {
      challenges.passkeysConfigured(settings);
      const row = await signinRow(sql, req.credentialId);
      if (!row) return { found: false };
      return {
        found: true,
        userId: row.user_id,
        email: row.email,
        role: row.role,
        wrappedKey: row.wrapped_key?.toString('base64') ?? null,
        keyVersion: row.key_version,
      };
    },
    'passkey.signin-complete': (req, ctx) => complete(sql, challenges.passkeysConfigured(settings), req, ctx),
  };
}

/** The credential's row, only while its user may sign in. */
async function signinRow(sql: postgres.Sql, credentialId: string): Promise<PasskeyRow | undefined> {
  const [row] = await sql<PasskeyRow[]>`
    SELECT p.credential_id, p.user_id::text AS user_id, p.public_key, p.counter::text AS counter, p.transports,
           p.wrapped_key, p.key_version, u.email, u.role, u.status
    FROM passkeys p JOIN users u ON u.id = p.user_id
    WHERE p.credential_id = ${credentialId} AND u.status IN ('active', 'unconfirmed')`;
  return row;
}

async function complete(
  sql: postgres.Sql,
  settings: PasskeySettings,
  req: AdminRequest<'passkey.signin-complete'>,
  { now }: OpContext<'passkey.signin-complete'>,
) {
  const nonce = await challenges.consumePasskeyChallenge(sql, req.challengeId, 'signin', null, now);
  const row = await signinRow(sql, req.credentialId);
  const response = challenges.parseResponse<AuthenticationResponseJSON>(req.assertion);
  const refuse = async (reason: string): Promise<never> => {
    await sql.begin((tx) =>
      appendAudit(
        tx,
        {
          actor: row?.user_id ?? 'unknown',
          action: 'signin',
          target: req.credentialId,
          outcome: 'failure',
          origin: req.origin,
          details: { method: 'passkey', reason },
        },
        now,
      ),
    );
    throw new AdminError('unauthenticated', 'the passkey assertion does not verify');
  };
  if (!row || response.id !== req.credentialId) return refuse('unknown-credential');
  // The user handle names the user the credential was made for: a row moved to another user fails.
  if (response.response.userHandle !== Buffer.from(row.user_id, 'utf8').toString('base64url'))
    return refuse('user-handle');
  const checked = await verifyAuthenticationResponse({
    response,
    // Bound to exactly the session being opened: a session hash swapped on the bus fails here.
    expectedChallenge: passkeySigninChallenge(nonce, req.session),
    expectedOrigin: settings.origin,
    expectedRPID: settings.rpId,
    credential: {
      id: row.credential_id,
      publicKey: new Uint8Array(row.public_key),
      counter: Number(row.counter),
      transports: row.transports,
    },
    requireUserVerification: true,
  }).catch(() => undefined);
  if (!checked?.verified) return refuse('assertion');
  const absolute = new Date(now.getTime() + ABSOLUTE_MS);
  const idle = new Date(now.getTime() + IDLE_MS);
  return sql.begin(async (tx) => {
    // The counter only moves forward: a cloned authenticator shows itself (both zero is allowed).
    const [moved] =
      await tx`UPDATE passkeys SET counter = ${checked.authenticationInfo.newCounter}, last_used_at = ${now}
      WHERE credential_id = ${row.credential_id} AND (counter < ${checked.authenticationInfo.newCounter} OR counter = 0)
      RETURNING credential_id`;
    if (!moved) throw new AdminError('unauthenticated', 'the passkey counter went backwards');
    await tx`INSERT INTO sessions (token_hash, id, user_id, wrapped_key, created_at, last_seen_at,
                                   idle_expires_at, absolute_expires_at, mfa, mfa_method)
      VALUES (${req.session}, ${req.sessionId}, ${row.user_id}, ${Buffer.from(req.wrappedKey, 'base64')},
              ${now}, ${now}, ${idle}, ${absolute}, true, 'passkey')`;
    await appendAudit(
      tx,
      {
        actor: row.user_id,
        action: 'signin',
        target: req.sessionId,
        outcome: 'success',
        origin: req.origin,
        details: { method: 'passkey', credential: row.credential_id, mfa: true },
      },
      now,
    );
    return { idleExpiresAt: idle.toISOString(), absoluteExpiresAt: absolute.toISOString() };
  });
}
