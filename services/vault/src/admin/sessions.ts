/**
 * Sessions, from the vault's side. The vault stores SHA-256 of the token and the user key wrapped
 * under a key only the token can derive; it checks expiry (idle 15 min, absolute 8 h), user status
 * and role on every call, and counts failed sign-ins toward a lockout (10 failures → 30 min).
 */
import { randomBytes } from 'node:crypto';
import { type AdminRequest, newRecordId, type Role, type UserStatus } from '@coffer/protocol';
import type postgres from 'postgres';
import { appendAudit } from '../audit.ts';
import { ABSOLUTE_MS, IDLE_MS } from './policy.ts';
import { AdminError, type AdminHandlers, type OpContext } from './router.ts';
import { requirePasswordProof, requireStaleForRehash } from './signin-integrity.ts';
import { throttleKey } from './signin-throttle.ts';

export const LOCKOUT_FAILURES = 10;
export const LOCKOUT_MS = 30 * 60 * 1000;

const CHALLENGE_MS = 2 * 60 * 1000;

/** A fresh single-use challenge for a password proof; expired ones are cleared as we go. */
export async function issueChallenge(sql: postgres.Sql, now: Date): Promise<{ id: string; nonce: string }> {
  await sql`DELETE FROM signin_challenges WHERE expires_at <= ${now}`;
  const challenge = { id: newRecordId(), nonce: randomBytes(32).toString('base64url') };
  await sql`INSERT INTO signin_challenges (id, nonce, expires_at)
    VALUES (${challenge.id}, ${challenge.nonce}, ${new Date(now.getTime() + CHALLENGE_MS)})`;
  return challenge;
}

/**
 * Use a challenge up, in its own statement: a proof that then fails (or a TOTP code refused)
 * rolls nothing back, so no challenge is ever checked twice.
 */
export async function consumeChallenge(
  sql: postgres.Sql,
  id: string,
  now: Date,
): Promise<{ id: string; nonce: string }> {
  const [row] = await sql<{ nonce: string }[]>`UPDATE signin_challenges SET used_at = ${now}
    WHERE id::text = ${id} AND used_at IS NULL AND expires_at > ${now} RETURNING nonce`;
  if (!row) throw new AdminError('unauthenticated', 'no such challenge, or it was used or has expired');
  return { id, nonce: row.nonce };
}

type SessionOps = 'signin.begin' | 'signin.fail' | 'signin.complete' | 'signout' | 'whoami' | 'denied';

export function sessionHandlers(sql: postgres.Sql): Pick<AdminHandlers, SessionOps> {
  return {
    'signin.begin': (req, ctx) => signinBegin(sql, req, ctx),

    'signin.fail': (req, ctx) => signinFail(sql, req, ctx),

    'signin.complete': (req, ctx) => signinComplete(sql, req, ctx),

    signout: (req, ctx) => signout(sql, req, ctx),

    whoami,

    denied: (req, ctx) => denied(sql, req, ctx),
  };
}

async function signinBegin(sql: postgres.Sql, req: AdminRequest<'signin.begin'>, { now }: OpContext<'signin.begin'>) {
  // issue 9 item 7: the attempt counts against the user, however the email was spelled.
  const [u] = await sql<
    {
      id: string;
      email: string;
      role: Role;
      status: UserStatus;
      password_verifier: string | null;
      wrapped_private_key: Buffer | null;
      key_version: number | null;
      totp_sealed: Buffer | null;
    }[]
  >`SELECT id, email, role, status, password_verifier, wrapped_private_key, key_version, totp_sealed
    FROM users WHERE lower(email) = lower(${req.email}) AND status IN ('active', 'unconfirmed')`;
  const emailHash = throttleKey(req.email, u?.id);
  const stale = new Date(now.getTime() - LOCKOUT_MS);
  // Count this attempt before any password is checked, in one statement: parallel guesses
  // cannot outrun the lock, and unknown emails lock exactly like known ones.
  const [t] = await sql<{ attempts: number; locked_until: Date | null }[]>`
    INSERT INTO signin_throttle (email_hash, attempts, updated_at) VALUES (${emailHash}, 1, ${now})
    ON CONFLICT (email_hash) DO UPDATE SET
      attempts = CASE
        WHEN signin_throttle.locked_until > ${now} THEN signin_throttle.attempts
        WHEN signin_throttle.updated_at < ${stale} THEN 1
        ELSE signin_throttle.attempts + 1 END,
      updated_at = ${now}
    RETURNING attempts, locked_until`;
  if (t?.locked_until && t.locked_until > now) return { found: false, locked: t.locked_until.toISOString() };
  if (t && t.attempts > LOCKOUT_FAILURES) {
    const until = new Date(now.getTime() + LOCKOUT_MS);
    await sql.begin(async (tx) => {
      await tx`UPDATE signin_throttle SET attempts = 0, locked_until = ${until} WHERE email_hash = ${emailHash}`;
      await appendAudit(
        tx,
        { actor: 'unknown', action: 'signin.lockout', target: req.email, outcome: 'success', origin: req.origin },
        now,
      );
    });
    return { found: false, locked: until.toISOString() };
  }
  // A challenge for every email that is not locked, known or not: the answer looks alike.
  const challenge = await issueChallenge(sql, now);
  if (!u) return { found: false, challenge };
  return {
    found: true,
    challenge,
    userId: u.id,
    email: u.email,
    role: u.role,
    status: u.status,
    verifier: u.password_verifier,
    wrappedPrivateKey: u.wrapped_private_key?.toString('base64') ?? null,
    keyVersion: u.key_version,
    totp: u.totp_sealed?.toString('base64') ?? null,
  };
}

async function signinFail(sql: postgres.Sql, req: AdminRequest<'signin.fail'>, { now }: OpContext<'signin.fail'>) {
  await sql.begin((tx) =>
    appendAudit(
      tx,
      {
        actor: req.userId ?? 'unknown',
        action: 'signin',
        target: req.email,
        outcome: 'failure',
        origin: req.origin,
        ...(req.reason ? { details: { reason: req.reason } } : {}),
      },
      now,
    ),
  );
}

async function signinComplete(
  sql: postgres.Sql,
  req: AdminRequest<'signin.complete'>,
  { now }: OpContext<'signin.complete'>,
) {
  const absolute = new Date(now.getTime() + ABSOLUTE_MS);
  const idle = new Date(now.getTime() + IDLE_MS);
  const challenge = await consumeChallenge(sql, req.challengeId, now);
  return sql.begin(async (tx) => {
    // The admin plane must show it knew the password: a bus credential alone makes no session,
    // and a proof seen on the bus is bound to this challenge and this session's hash.
    const [u] = await tx<{ email: string; password_verifier: string | null; totp: boolean }[]>`
      SELECT email, password_verifier, totp_sealed IS NOT NULL AS totp FROM users
      WHERE id = ${req.userId} AND status IN ('active', 'unconfirmed')
      FOR UPDATE`;
    requirePasswordProof(u?.password_verifier, challenge, 'signin.complete', req, [req.userId, req.session]);
    let mfa = false;
    if (u.totp) {
      // Each code works once: the step must be later than the last accepted one, checked and
      // recorded in one statement. (The vault cannot open the secret; the admin plane did.)
      const step = req.totpStep;
      if (step === undefined) throw new AdminError('totp-rejected', 'this user signs in with a TOTP code');
      // A step from the future would block every real code until then: refuse beyond +1.
      if (step > Math.floor(now.getTime() / 30_000) + 1)
        throw new AdminError('totp-rejected', 'TOTP step from the future');
      const [fresh] = await tx`UPDATE users SET totp_last_step = ${step}
        WHERE id = ${req.userId} AND (totp_last_step IS NULL OR totp_last_step < ${step}) RETURNING id`;
      if (!fresh) throw new AdminError('totp-rejected', 'this TOTP code, or a later one, was used already');
      mfa = true;
    }
    await tx`DELETE FROM signin_throttle WHERE email_hash = ${throttleKey(u.email, req.userId)}`;
    if (req.rehash) {
      requireStaleForRehash(u.password_verifier, req.rehash.verifier); // issue 9 item 2
      await tx`UPDATE users SET password_verifier = ${req.rehash.verifier},
        wrapped_private_key = ${Buffer.from(req.rehash.wrappedPrivateKey, 'base64')} WHERE id = ${req.userId}`;
    }
    await tx`INSERT INTO sessions (token_hash, id, user_id, wrapped_key, created_at, last_seen_at,
                                   idle_expires_at, absolute_expires_at, mfa, mfa_method)
      VALUES (${req.session}, ${req.sessionId}, ${req.userId}, ${Buffer.from(req.wrappedKey, 'base64')},
              ${now}, ${now}, ${idle}, ${absolute}, ${mfa}, ${mfa ? 'totp' : null})`;
    await appendAudit(
      tx,
      {
        actor: req.userId,
        action: 'signin',
        target: req.sessionId,
        outcome: 'success',
        origin: req.origin,
        details: { rehashed: req.rehash !== undefined, mfa },
      },
      now,
    );
    return { idleExpiresAt: idle.toISOString(), absoluteExpiresAt: absolute.toISOString() };
  });
}

async function signout(sql: postgres.Sql, req: AdminRequest<'signout'>, { now, caller }: OpContext<'signout'>) {
  await sql.begin(async (tx) => {
    await tx`DELETE FROM sessions WHERE token_hash = ${req.session}`;
    await appendAudit(
      tx,
      { actor: caller.userId, action: 'signout', target: caller.sessionId, outcome: 'success', origin: req.origin },
      now,
    );
  });
}

async function whoami(_req: AdminRequest<'whoami'>, { caller: c }: OpContext<'whoami'>) {
  return { id: c.userId, email: c.email, role: c.role, status: c.status, totp: c.totp, mfa: c.mfa };
}

async function denied(sql: postgres.Sql, req: AdminRequest<'denied'>, { now, caller }: OpContext<'denied'>) {
  // Only a live session's refusals are audited (the policy is 'optional'): a stranger's junk
  // cookie must not be able to fill the audit log.
  if (!caller) return;
  await sql.begin((tx) =>
    appendAudit(
      tx,
      {
        actor: caller.userId,
        action: req.action,
        outcome: 'denied',
        origin: req.origin,
        details: { reason: req.reason },
      },
      now,
    ),
  );
}

/** The janitor: expired sessions go, with their wrapped keys. */
export async function deleteExpiredSessions(sql: postgres.Sql, now: Date): Promise<number> {
  const rows = await sql`DELETE FROM sessions WHERE idle_expires_at <= ${now} OR absolute_expires_at <= ${now}
    RETURNING id`;
  return rows.length;
}
