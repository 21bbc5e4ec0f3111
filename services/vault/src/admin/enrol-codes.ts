/**
 * One-time TOTP enrolment codes (issue 9 item 3). A confirmed account holds authority (a viewer
 * reveals, a key-admin unwraps the org key), so its first authenticator is never enrolled with
 * the password alone: whoever stole the password would enrol their own and lock the owner out. A
 * key-admin other than the user issues a code (the admin plane makes 100 random bits and sends
 * only their SHA-256); the user offers it with the secret they enrol. Single use (deleted when
 * used), 15 minutes, compared in constant time, audited at issue, use and refusal.
 */
import { timingSafeEqual } from 'node:crypto';
import type { AdminRequest } from '@coffer/protocol';
import type postgres from 'postgres';
import type { Caller } from './caller.ts';
import { auditOrRefuse } from './records.ts';
import { AdminError, type AdminHandlers, type OpContext } from './router.ts';

export const ENROL_CODE_MS = 15 * 60 * 1000;

/** Whether this caller's first authenticator may be enrolled only with an enrolment code. */
export function needsEnrolCode(caller: Caller): boolean {
  // Before confirmation the account holds no key and no authority: the invitee enrols with the
  // password they just set, and the key-admin then confirms an account whose factor is set.
  return caller.status === 'active' && !caller.totp;
}

export function enrolCodeHandlers(sql: postgres.Sql): Pick<AdminHandlers, 'users.enrol-code'> {
  return { 'users.enrol-code': (req, ctx) => issue(sql, req, ctx) };
}

async function issue(sql: postgres.Sql, req: AdminRequest<'users.enrol-code'>, ctx: OpContext<'users.enrol-code'>) {
  const { now, caller } = ctx;
  const event = { actor: caller.userId, action: 'user.enrol-code', target: req.userId, origin: req.origin };
  // A key-admin vouching for their own enrolment would be the password alone again.
  if (req.userId === caller.userId) {
    await sql.begin((tx) => auditOrRefuse(tx, { ...event, outcome: 'denied', details: { error: 'self' } }, now));
    throw new AdminError('conflict', 'another key-admin must issue your enrolment code');
  }
  const expiresAt = new Date(now.getTime() + ENROL_CODE_MS);
  return sql.begin(async (tx) => {
    const [user] = await tx`SELECT id FROM users WHERE id::text = ${req.userId} AND status = 'active' FOR UPDATE`;
    if (!user) throw new AdminError('not-found', 'no confirmed user with this id');
    await tx`INSERT INTO totp_enrol_codes (user_id, code_hash, issued_by, expires_at)
      VALUES (${user.id}, ${Buffer.from(req.codeHash, 'hex')}, ${caller.userId}, ${expiresAt})
      ON CONFLICT (user_id) DO UPDATE SET code_hash = EXCLUDED.code_hash, issued_by = EXCLUDED.issued_by,
        expires_at = EXCLUDED.expires_at`;
    await auditOrRefuse(tx, { ...event, outcome: 'success', details: { expiresAt: expiresAt.toISOString() } }, now);
    return { expiresAt: expiresAt.toISOString() };
  });
}

/**
 * Use up the caller's enrolment code inside `tx`: true when `codeHash` matches an unexpired code
 * for them (which is then deleted). A wrong code leaves a right one in place (it is 100 bits; a
 * guess costs a bus call and an audit row).
 */
export async function useEnrolCode(
  tx: postgres.TransactionSql,
  userId: string,
  codeHash: string,
  now: Date,
): Promise<boolean> {
  const [row] = await tx<{ code_hash: Buffer; expires_at: Date }[]>`
    SELECT code_hash, expires_at FROM totp_enrol_codes WHERE user_id = ${userId} FOR UPDATE`;
  if (!row) return false;
  const offered = Buffer.from(codeHash, 'hex');
  const match = offered.length === row.code_hash.length && timingSafeEqual(offered, row.code_hash);
  if (!match || row.expires_at.getTime() <= now.getTime()) return false;
  await tx`DELETE FROM totp_enrol_codes WHERE user_id = ${userId}`;
  return true;
}
