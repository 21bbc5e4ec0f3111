/**
 * Revoking and resetting a person: their wrapped keys and sessions go, the next signed revocation
 * list names them in the same transaction, and keys of windows not yet begun are destroyed. A
 * reset invites them again.
 */
import type { AdminRequest } from '@coffer/protocol';
import type postgres from 'postgres';
import { INVITE_MS } from './invites.ts';
import { auditOrRefuse } from './records.ts';
import { retireFutureKeys, storeNextRevocations } from './revocations.ts';
import { AdminError, type OpContext } from './router.ts';

/**
 * Inside a revoke or reset: lock the caller's and the target's rows (in id order, so two
 * key-admins acting on each other cannot deadlock or both succeed), check the caller is still an
 * active key-admin, and refuse to remove the last one.
 */
async function lockCallerAndTarget(tx: postgres.TransactionSql, callerId: string, targetId: string) {
  const rows = await tx<{ id: string; role: string; status: string }[]>`
    SELECT id, role, status FROM users WHERE id::text IN (${callerId}, ${targetId}) ORDER BY id FOR UPDATE`;
  const caller = rows.find((r) => r.id === callerId);
  const target = rows.find((r) => r.id === targetId);
  if (caller?.status !== 'active' || caller.role !== 'key-admin') {
    throw new AdminError('forbidden', 'the caller is no longer an active key-admin');
  }
  if (!target) throw new AdminError('not-found', 'no such user');
  if (target.role === 'key-admin' && target.status === 'active') {
    const [others] = await tx<{ n: number }[]>`SELECT count(*)::int AS n FROM users
      WHERE role = 'key-admin' AND status = 'active' AND id::text <> ${targetId}`;
    if (!others?.n) throw new AdminError('conflict', 'this is the last active key-admin');
  }
  return target;
}

export async function usersRevoke(
  sql: postgres.Sql,
  req: AdminRequest<'users.revoke'>,
  { now, caller }: OpContext<'users.revoke'>,
) {
  if (req.userId === caller.userId) throw new AdminError('conflict', 'a key-admin cannot revoke themselves');
  await sql.begin(async (tx) => {
    await lockCallerAndTarget(tx, caller.userId, req.userId);
    // The certificate goes too: a row flipped back to 'active' by a database writer has
    // nothing that would make the admin plane wrap a new key to it.
    const [user] = await tx`UPDATE users SET status = 'revoked', wrapped_private_key = NULL, password_verifier = NULL,
        totp_sealed = NULL, totp_pending = NULL, certificate_signature = NULL, public_key = NULL
      WHERE id::text = ${req.userId} AND status <> 'revoked' RETURNING id`;
    if (!user) throw new AdminError('not-found', 'no such user');
    // issue 15, item 2: the signed list names the person, in the same transaction.
    const counter = await storeNextRevocations(tx, req.revocations, { userId: req.userId, publicKey: null });
    const keys =
      await tx`DELETE FROM wrapped_keys WHERE recipient_kind = 'user' AND recipient_id = ${req.userId} RETURNING key_id`;
    // issue 15, item 1: keys of windows not yet begun, which they could have saved, are destroyed.
    const retired = keys.length ? await retireFutureKeys(tx, now) : 0;
    const sessions = await tx`DELETE FROM sessions WHERE user_id = ${user.id} RETURNING id`;
    await tx`DELETE FROM invites WHERE user_id = ${user.id}`;
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: 'user.revoke',
        target: req.userId,
        outcome: 'success',
        origin: req.origin,
        details: { wrappedKeys: keys.length, sessions: sessions.length, retiredKeys: retired, revocationList: counter },
      },
      now,
    );
  });
}

export async function usersReset(
  sql: postgres.Sql,
  req: AdminRequest<'users.reset'>,
  { now, caller }: OpContext<'users.reset'>,
) {
  if (req.userId === caller.userId) throw new AdminError('conflict', 'a key-admin cannot reset themselves');
  const expiresAt = new Date(now.getTime() + INVITE_MS);
  return sql.begin(async (tx) => {
    await lockCallerAndTarget(tx, caller.userId, req.userId);
    // Only a certified (active) key could have received data keys: that is the one to list.
    const [before] = await tx<{ public_key: string | null; holds: boolean }[]>`
      SELECT public_key, (status = 'active' AND role IN ('viewer', 'key-admin')) AS holds
      FROM users WHERE id::text = ${req.userId}`;
    const oldKey = before?.public_key && before.holds ? { userId: req.userId, publicKey: before.public_key } : null;
    const counter = await storeNextRevocations(tx, req.revocations, oldKey);
    const [user] = await tx`UPDATE users SET status = 'invited', password_verifier = NULL, wrapped_private_key = NULL,
        public_key = NULL, certificate_signature = NULL, confirmed_at = NULL,
        totp_sealed = NULL, totp_pending = NULL, totp_last_step = NULL
      WHERE id::text = ${req.userId} AND status IN ('active', 'unconfirmed') RETURNING id`;
    if (!user) throw new AdminError('not-found', 'no such user');
    const keys = await tx`DELETE FROM wrapped_keys WHERE recipient_kind = 'user' AND recipient_id = ${req.userId}
      RETURNING key_id`;
    const retired = keys.length ? await retireFutureKeys(tx, now) : 0;
    await tx`DELETE FROM sessions WHERE user_id = ${user.id}`;
    await tx`DELETE FROM invites WHERE user_id = ${user.id}`;
    await tx`DELETE FROM totp_enrol_codes WHERE user_id = ${user.id}`;
    await tx`UPDATE users SET totp_pending_authorised = false WHERE id = ${user.id}`;
    await tx`INSERT INTO invites (token_hash, user_id, expires_at) VALUES (${req.inviteHash}, ${user.id}, ${expiresAt})`;
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: 'user.reset',
        target: req.userId,
        outcome: 'success',
        origin: req.origin,
        details: { wrappedKeys: keys.length, retiredKeys: retired, revocationList: counter },
      },
      now,
    );
    return { id: user.id, expiresAt: expiresAt.toISOString() };
  });
}
