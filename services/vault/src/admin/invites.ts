/** An invite, from the invitee's side: who it is for, and accepting it with the keys the admin plane made. */
import type { AdminRequest, Role } from '@coffer/protocol';
import type postgres from 'postgres';
import { auditOrRefuse } from './records.ts';
import { AdminError, type OpContext } from './router.ts';
import { requireKeyOfOrgSuite, suiteMaterial } from './suite-material.ts';

/** How long an invite (a new one, a reset's, a re-sent one) can be accepted. */
export const INVITE_MS = 24 * 60 * 60 * 1000;

export async function invitesLookup(
  sql: postgres.Sql,
  req: AdminRequest<'invites.lookup'>,
  { now }: OpContext<'invites.lookup'>,
) {
  const [row] = await sql<{ user_id: string; email: string; role: Role; key_version: number | null }[]>`
    SELECT i.user_id, u.email, u.role, u.key_version FROM invites i JOIN users u ON u.id = i.user_id
    WHERE i.token_hash = ${req.inviteHash} AND i.used_at IS NULL AND i.expires_at > ${now} AND u.status = 'invited'`;
  if (!row) throw new AdminError('not-found', 'no such invite, or it was used or has expired');
  // The new key's version: its AAD under the KEK names it, so an old wrapped key never fits. The
  // org's suite says which kind of key the admin plane makes (issue 15).
  return {
    userId: row.user_id,
    email: row.email,
    role: row.role,
    keyVersion: (row.key_version ?? 0) + 1,
    ...(await suiteMaterial(sql)),
  };
}

export async function invitesAccept(
  sql: postgres.Sql,
  req: AdminRequest<'invites.accept'>,
  { now }: OpContext<'invites.accept'>,
) {
  return sql.begin(async (tx) => {
    const [invite] = await tx<{ user_id: string }[]>`UPDATE invites SET used_at = ${now}
      WHERE token_hash = ${req.inviteHash} AND used_at IS NULL AND expires_at > ${now} RETURNING user_id`;
    if (!invite) throw new AdminError('not-found', 'no such invite, or it was used or has expired');
    await requireKeyOfOrgSuite(tx, req.publicKey); // issue 15: no X25519 person in an X-Wing org
    const [user] = await tx`UPDATE users SET status = 'unconfirmed', password_verifier = ${req.verifier},
        key_version = ${req.keyVersion}, public_key = ${req.publicKey},
        wrapped_private_key = ${Buffer.from(req.wrappedPrivateKey, 'base64')}, certificate_signature = NULL,
        failed_signins = 0, locked_until = NULL
      WHERE id = ${invite.user_id} AND status = 'invited' AND COALESCE(key_version, 0) + 1 = ${req.keyVersion}
      RETURNING key_version`;
    if (!user) throw new AdminError('conflict', 'the invited user changed meanwhile; start again');
    await auditOrRefuse(
      tx,
      {
        actor: invite.user_id,
        action: 'invite.accept',
        target: invite.user_id,
        outcome: 'success',
        origin: req.origin,
      },
      now,
    );
    return { userId: invite.user_id, keyVersion: user.key_version as number };
  });
}
