/**
 * People, from the vault's side: invites (token hash only, single use, 24 h), acceptance (the
 * admin plane made the keys; the vault stores verifier, public key and wrapped private key),
 * confirmation (certificate checked against the stored trust root; auditors receive no data key),
 * revocation and reset. Every step is audited. One file per step: invites.ts,
 * user-confirm.ts, user-removal.ts, invitations.ts (the signed invitation), me-password.ts.
 */
import { type AdminRequest, newRecordId } from '@coffer/protocol';
import type postgres from 'postgres';
import { callerOrgKey, usersInvitation } from './invitations.ts';
import { INVITE_MS, invitesAccept, invitesLookup } from './invites.ts';
import { mePassword } from './me-password.ts';
import { auditOrRefuse } from './records.ts';
import { AdminError, type AdminHandlers, type OpContext } from './router.ts';
import { usersConfirm, usersConfirmMaterial } from './user-confirm.ts';
import { usersReset, usersRevoke } from './user-removal.ts';

type UserOps =
  | 'users.invite'
  | 'users.invitation'
  | 'invites.lookup'
  | 'invites.accept'
  | 'users.confirm-material'
  | 'users.confirm'
  | 'users.revoke'
  | 'users.reset'
  | 'me.password';

export function userHandlers(sql: postgres.Sql): Pick<AdminHandlers, UserOps> {
  return {
    'users.invite': (req, ctx) => usersInvite(sql, req, ctx),

    // issue 9 item 1: the invitation the key-admin signed, stored with the invited user.
    'users.invitation': (req, ctx) => usersInvitation(sql, req, ctx),

    'invites.lookup': (req, ctx) => invitesLookup(sql, req, ctx),

    'invites.accept': (req, ctx) => invitesAccept(sql, req, ctx),

    'users.confirm-material': (req, ctx) => usersConfirmMaterial(sql, req, ctx),

    'users.confirm': (req, ctx) => usersConfirm(sql, req, ctx),

    'users.revoke': (req, ctx) => usersRevoke(sql, req, ctx),

    'users.reset': (req, ctx) => usersReset(sql, req, ctx),

    'me.password': (req, ctx) => mePassword(sql, req, ctx), // me-password.ts
  };
}

async function usersInvite(
  sql: postgres.Sql,
  req: AdminRequest<'users.invite'>,
  { now, caller }: OpContext<'users.invite'>,
) {
  const id = newRecordId();
  const expiresAt = new Date(now.getTime() + INVITE_MS);
  const signWith = await callerOrgKey(sql, caller); // issue 9 item 1: to sign the invitation
  return sql.begin(async (tx) => {
    const [taken] = await tx`SELECT 1 FROM users WHERE lower(email) = lower(${req.email})`;
    if (taken) throw new AdminError('conflict', 'a user with this email exists');
    await tx`INSERT INTO users (id, email, role, status) VALUES (${id}, ${req.email}, ${req.role}, 'invited')`;
    await tx`INSERT INTO invites (token_hash, user_id, expires_at) VALUES (${req.inviteHash}, ${id}, ${expiresAt})`;
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: 'user.invite',
        target: id,
        outcome: 'success',
        origin: req.origin,
        details: { role: req.role },
      },
      now,
    );
    return { id, expiresAt: expiresAt.toISOString(), ...signWith };
  });
}
