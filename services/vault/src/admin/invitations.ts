/**
 * Signed invitations, from the vault's side (issue 9, item 1). The vault hands the inviting
 * key-admin their org key copy to sign the invitation with, stores the signed statement with the
 * invited user once it verifies under the stored trust root and names that user, their email and
 * role, and returns it at confirmation — where the admin plane checks it against its own pinned
 * trust root. The vault's checks stop a confused admin plane; the admin plane's stop the vault's
 * database or the bus.
 */
import { PublicKey, verifyInvitation } from '@coffer/crypto';
import type { AdminRequest } from '@coffer/protocol';
import type postgres from 'postgres';
import type { Caller } from './caller.ts';
import { auditOrRefuse, sessionMaterial } from './records.ts';
import { AdminError, type OpContext } from './router.ts';

/** The caller's wrapped org key and session material: to sign an invitation, or to confirm a person. */
export async function callerOrgKey(sql: postgres.Sql, caller: Caller) {
  const [org] = await sql<{ org_key_id: string; wrapped: Buffer | null }[]>`
    SELECT o.org_key_id, w.wrapped FROM org o LEFT JOIN wrapped_keys w ON w.key_kind = 'org'
      AND w.key_id = o.org_key_id AND w.recipient_kind = 'user' AND w.recipient_id = ${caller.userId}`;
  if (!org?.wrapped) throw new AdminError('no-access', 'this key-admin holds no copy of the org key');
  return { orgKeyId: org.org_key_id, orgKey: org.wrapped.toString('base64'), session: sessionMaterial(caller) };
}

/** The signed invitation stored with a user, for confirm-material. */
export async function storedInvitation(sql: postgres.Sql, userId: string) {
  const [row] = await sql<{ invitation: unknown; invitation_signature: string | null }[]>`
    SELECT invitation, invitation_signature FROM users WHERE id::text = ${userId}`;
  return row?.invitation && row.invitation_signature
    ? { statement: row.invitation, signature: row.invitation_signature }
    : null;
}

export async function usersInvitation(
  sql: postgres.Sql,
  req: AdminRequest<'users.invitation'>,
  { now, caller }: OpContext<'users.invitation'>,
): Promise<void> {
  await sql.begin(async (tx) => {
    const [org] = await tx<{ trust_root: string }[]>`SELECT trust_root FROM org`;
    if (!org) throw new AdminError('conflict', 'the vault is not initialised');
    try {
      verifyInvitation(PublicKey.fromBase64url('ed25519', org.trust_root), req.invitation, req.signature);
    } catch {
      throw new AdminError('bad-signature', 'the invitation does not verify under the trust root');
    }
    // Only for the user just invited, as invited, and only once: a signed statement cannot be
    // moved to another row or replace an earlier one.
    const [stored] = await tx`UPDATE users SET invitation = ${tx.json(req.invitation)},
        invitation_signature = ${req.signature}
      WHERE id::text = ${req.userId} AND id::text = ${req.invitation.userId} AND email = ${req.invitation.email}
        AND role = ${req.invitation.role} AND status = 'invited' AND invitation IS NULL
      RETURNING id`;
    if (!stored) throw new AdminError('conflict', 'the invitation does not match an invited user awaiting one');
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: 'user.invitation',
        target: req.userId,
        outcome: 'success',
        origin: req.origin,
        details: { role: req.invitation.role },
      },
      now,
    );
  });
}
