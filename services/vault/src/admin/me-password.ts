/**
 * me.password: the caller's own password change. The admin plane re-wrapped the same key under the
 * new password's KEK and proves the current password; every other session of the caller ends.
 */
import type { AdminRequest } from '@coffer/protocol';
import type postgres from 'postgres';
import { auditOrRefuse } from './records.ts';
import type { OpContext } from './router.ts';
import { consumeChallenge } from './sessions.ts';
import { requirePasswordProof } from './signin-integrity.ts';
import { throttleKey } from './signin-throttle.ts';

export async function mePassword(
  sql: postgres.Sql,
  req: AdminRequest<'me.password'>,
  { now, caller }: OpContext<'me.password'>,
) {
  const challenge = await consumeChallenge(sql, req.challengeId, now);
  await sql.begin(async (tx) => {
    const [u] = await tx<{ password_verifier: string | null }[]>`
      SELECT password_verifier FROM users WHERE id = ${caller.userId} FOR UPDATE`;
    const context = [caller.userId, 'password-change', req.session];
    requirePasswordProof(
      u?.password_verifier,
      challenge,
      'me.password',
      req,
      context,
      'no proof of the current password',
    );
    await tx`UPDATE users SET password_verifier = ${req.verifier},
        wrapped_private_key = ${Buffer.from(req.wrappedPrivateKey, 'base64')} WHERE id = ${caller.userId}`;
    const others =
      await tx`DELETE FROM sessions WHERE user_id = ${caller.userId} AND token_hash <> ${req.session} RETURNING id`;
    // The change proved the password: the attempt it counted is forgiven, as at sign-in.
    await tx`DELETE FROM signin_throttle WHERE email_hash = ${throttleKey(caller.email, caller.userId)}`;
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: 'password.change',
        target: caller.userId,
        outcome: 'success',
        origin: req.origin,
        details: { signedOut: others.length },
      },
      now,
    );
  });
}
