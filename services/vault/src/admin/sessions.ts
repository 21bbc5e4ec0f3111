/**
 * Sessions, from the vault's side. The vault stores SHA-256 of the token and the user key wrapped
 * under a key only the token can derive; it checks expiry (idle 15 min, absolute 8 h), user status
 * and role on every call, and counts failed sign-ins toward a lockout (10 failures → 30 min).
 */
import { randomBytes } from 'node:crypto';
import { checkPasswordProof } from '@coffer/crypto';
import { AdminApi, decodeJson, newRecordId, type SigninLookup } from '@coffer/protocol';
import type postgres from 'postgres';
import { appendAudit } from '../audit.ts';
import { AdminError } from './router.ts';
import { receivedRequestDigest, requireStaleForRehash } from './signin-integrity.ts';
import { throttleKey } from './signin-throttle.ts';

export const IDLE_MS = 15 * 60 * 1000;
export const ABSOLUTE_MS = 8 * 60 * 60 * 1000;
export const LOCKOUT_FAILURES = 10;
export const LOCKOUT_MS = 30 * 60 * 1000;

export type Role = 'viewer' | 'key-admin' | 'auditor';

export interface Caller {
  readonly sessionId: string;
  readonly userId: string;
  readonly email: string;
  readonly role: Role;
  readonly status: string;
  readonly wrappedKey: Buffer;
  /** Whether this session was opened with a TOTP code. */
  readonly mfa: boolean;
  /** Whether the user has TOTP enrolled. */
  readonly totp: boolean;
}

/** The roles that hold data keys: with MFA required, they reveal and export only from an MFA session. */
export const MFA_ROLES: readonly Role[] = ['viewer', 'key-admin'];

type Clock = () => Date;

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

/** The live session behind a token hash, kept alive by this call; or 'unauthenticated'. */
export async function authenticate(sql: postgres.Sql, session: string, now: Date): Promise<Caller> {
  // One statement on the common path: touch a live session. Only when none answers is an expired
  // one (and its wrapped key) deleted, so that it cannot linger until the janitor runs.
  const [row] = await sql<
    {
      id: string;
      user_id: string;
      email: string;
      role: Role;
      status: string;
      wrapped_key: Buffer;
      mfa: boolean;
      totp: boolean;
    }[]
  >`UPDATE sessions s SET last_seen_at = ${now},
        idle_expires_at = LEAST(${new Date(now.getTime() + IDLE_MS)}, s.absolute_expires_at)
      FROM users u
      WHERE s.token_hash = ${session} AND u.id = s.user_id AND u.status IN ('active', 'unconfirmed')
        AND s.idle_expires_at > ${now} AND s.absolute_expires_at > ${now}
      RETURNING s.id, s.user_id, u.email, u.role, u.status, s.wrapped_key, s.mfa, u.totp_sealed IS NOT NULL AS totp`;
  if (!row) {
    await sql`DELETE FROM sessions WHERE token_hash = ${session}
      AND (idle_expires_at <= ${now} OR absolute_expires_at <= ${now})`;
    throw new AdminError('unauthenticated', 'no live session');
  }
  return {
    sessionId: row.id,
    userId: row.user_id,
    email: row.email,
    role: row.role,
    status: row.status,
    wrappedKey: row.wrapped_key,
    mfa: row.mfa,
    totp: row.totp,
  };
}

/** Refuse, and audit the refusal in its own transaction so that it stays. */
export async function requireRole(
  sql: postgres.Sql,
  caller: Caller,
  roles: readonly Role[],
  action: string,
  target: string | null,
  origin: string,
  now: Date,
): Promise<void> {
  // Authority comes with confirmation: an unconfirmed user (who accepted an invite but whose
  // fingerprint no key-admin has checked yet) may sign in, change their password and enrol TOTP,
  // and nothing else.
  if (roles.includes(caller.role) && caller.status === 'active') return;
  await sql.begin((tx) =>
    appendAudit(
      tx,
      {
        actor: caller.userId,
        action,
        target,
        outcome: 'denied',
        origin,
        details: { role: caller.role, status: caller.status },
      },
      now,
    ),
  );
  throw new AdminError(
    'forbidden',
    caller.status === 'active' ? `a ${caller.role} may not ${action}` : 'an unconfirmed user may not do this yet',
  );
}

/**
 * With MFA required, a viewer or key-admin reveals and exports only from a session opened with a
 * TOTP code; a refusal is audited like a role refusal. The admin plane checks the same first.
 */
export async function requireMfa(
  sql: postgres.Sql,
  required: boolean,
  caller: Caller,
  action: string,
  target: string | null,
  origin: string,
  now: Date,
): Promise<void> {
  if (!required || caller.mfa || !MFA_ROLES.includes(caller.role)) return;
  await sql.begin((tx) =>
    appendAudit(
      tx,
      { actor: caller.userId, action, target, outcome: 'denied', origin, details: { reason: 'mfa-required' } },
      now,
    ),
  );
  throw new AdminError('mfa-required', `a ${caller.role} must sign in with a TOTP code to ${action}`);
}

export function sessionHandlers(sql: postgres.Sql, clock: Clock) {
  return {
    'signin.begin': async (data: Uint8Array): Promise<SigninLookup> => {
      const req = decodeJson(AdminApi['signin.begin'], data);
      const now = clock();
      // issue 9 item 7: the attempt counts against the user, however the email was spelled.
      const [u] = await sql<
        {
          id: string;
          email: string;
          role: string;
          status: string;
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
    },

    'signin.fail': async (data: Uint8Array) => {
      const req = decodeJson(AdminApi['signin.fail'], data);
      const now = clock();
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
    },

    'signin.complete': async (data: Uint8Array) => {
      const req = decodeJson(AdminApi['signin.complete'], data);
      const now = clock();
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
        if (
          !u?.password_verifier ||
          // issue 9 item 2: the proof signs the digest of the whole request as received.
          !checkPasswordProof(
            u.password_verifier,
            challenge,
            [req.userId, req.session, receivedRequestDigest('signin.complete', data)],
            req.proof,
          )
        ) {
          throw new AdminError('unauthenticated', 'no proof of the password');
        }
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
                                       idle_expires_at, absolute_expires_at, mfa)
          VALUES (${req.session}, ${req.sessionId}, ${req.userId}, ${Buffer.from(req.wrappedKey, 'base64')},
                  ${now}, ${now}, ${idle}, ${absolute}, ${mfa})`;
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
    },

    signout: async (data: Uint8Array) => {
      const req = decodeJson(AdminApi.signout, data);
      const now = clock();
      const caller = await authenticate(sql, req.session, now);
      await sql.begin(async (tx) => {
        await tx`DELETE FROM sessions WHERE token_hash = ${req.session}`;
        await appendAudit(
          tx,
          { actor: caller.userId, action: 'signout', target: caller.sessionId, outcome: 'success', origin: req.origin },
          now,
        );
      });
    },

    whoami: async (data: Uint8Array) => {
      const req = decodeJson(AdminApi.whoami, data);
      const c = await authenticate(sql, req.session, clock());
      return { id: c.userId, email: c.email, role: c.role, status: c.status, totp: c.totp, mfa: c.mfa };
    },

    denied: async (data: Uint8Array) => {
      const req = decodeJson(AdminApi.denied, data);
      const now = clock();
      // Only a live session's refusals are audited: a stranger's junk cookie must not be able to
      // fill the audit log.
      const caller = await authenticate(sql, req.session, now).catch(() => undefined);
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
    },
  };
}

/** The janitor: expired sessions go, with their wrapped keys. */
export async function deleteExpiredSessions(sql: postgres.Sql, now: Date): Promise<number> {
  const rows = await sql`DELETE FROM sessions WHERE idle_expires_at <= ${now} OR absolute_expires_at <= ${now}
    RETURNING id`;
  return rows.length;
}
