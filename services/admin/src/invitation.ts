/**
 * Role binding (issue 9, item 1). Inviting: the admin plane signs, with the org key unwrapped
 * through the inviting key-admin's session, who is invited and for which role, and stores that
 * with the vault. Confirming: the role to certify and wrap for is the one in that signed statement,
 * checked against the pinned trust root — never the role the vault's database or a bus reply
 * states. A mismatch wraps nothing.
 */
import { callVault } from '@coffer/bus';
import { type Invitation, type PublicKey, signInvitation, verifyInvitation } from '@coffer/crypto';
import { type ConfirmMaterial, type InviteMade, newRecordId } from '@coffer/protocol';
import type { AdminDeps } from './routes/deps.ts';
import { unwrapOrgKey } from './unwrap.ts';

export type InvitedRole = Invitation['role'];

/** Sign the invitation for the user `made` just now and store it with the vault. */
export async function signInvitationFor(
  deps: AdminDeps,
  session: { token: string; hash: string },
  made: InviteMade,
  invited: { email: string; role: InvitedRole },
  origin: string,
): Promise<void> {
  const { orgKey } = unwrapOrgKey(session.token, made);
  const invitation: Invitation = {
    v: 1,
    inviteId: newRecordId(),
    userId: made.id,
    email: invited.email,
    role: invited.role,
    expiresAt: made.expiresAt,
  };
  const signature = signInvitation(orgKey, invitation);
  await callVault(deps.bus, 'users.invitation', {
    v: 1,
    session: session.hash,
    userId: made.id,
    invitation,
    signature,
    origin,
  });
}

/** Why a confirmation was refused: said to the key-admin, and audited as a denial. */
export class RoleBindingError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * The role the key-admin granted when inviting this user: from the invitation signed under the
 * trust root, naming this user and email. Throws RoleBindingError when there is none, it does not
 * verify, or the role the vault reports differs from it.
 */
export function grantedRole(trustRoot: PublicKey<'ed25519'>, user: ConfirmMaterial['user']): InvitedRole {
  if (!user.invitation) throw new RoleBindingError('no signed invitation is stored for this user');
  let signed: Invitation;
  try {
    signed = verifyInvitation(trustRoot, user.invitation.statement, user.invitation.signature);
  } catch {
    throw new RoleBindingError('the invitation does not verify under the trust root');
  }
  if (signed.userId !== user.id || signed.email !== user.email) {
    throw new RoleBindingError('the invitation names another user');
  }
  if (signed.role !== user.role) {
    throw new RoleBindingError(`invited as ${signed.role}, but the vault reports ${user.role}`);
  }
  return signed.role;
}
