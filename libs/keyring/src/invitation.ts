/**
 * Role binding (issue 9, item 1). Inviting: a key-admin (through their session) signs, with the org
 * key, who is invited and for which role. Confirming: the role to certify and wrap for is the one
 * in that signed statement, checked against the pinned trust root — never the role a database row
 * or a bus reply states. A mismatch grants nothing.
 */
import { type Invitation, type PublicKey, signInvitation, verifyInvitation } from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import { type Holder, withOrgKey } from './holder.ts';

export type InvitedRole = Invitation['role'];

/** The signed invitation for a user just invited, by a holder of the org key. */
export function signedInvitation(
  holder: Holder,
  held: { readonly orgKeyId: string; readonly orgKey: string },
  invited: { readonly userId: string; readonly email: string; readonly role: InvitedRole; readonly expiresAt: string },
): { invitation: Invitation; signature: string } {
  const invitation: Invitation = {
    v: 1,
    inviteId: newRecordId(),
    userId: invited.userId,
    email: invited.email,
    role: invited.role,
    expiresAt: invited.expiresAt,
  };
  return { invitation, signature: withOrgKey(holder, held, (orgKey) => signInvitation(orgKey, invitation)) };
}

/** Why a confirmation was refused: said to the key-admin, and audited as a denial. */
export class RoleBindingError extends Error {
  override readonly name = 'RoleBindingError';
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * The role the key-admin granted when inviting this user: from the invitation signed under the
 * trust root, naming this user and email. Throws RoleBindingError when there is none, it does not
 * verify, or the role the vault reports differs from it.
 */
export function grantedRole(
  trustRoot: PublicKey<'ed25519'>,
  user: {
    readonly id: string;
    readonly email: string;
    readonly role: string;
    readonly invitation: { readonly statement: unknown; readonly signature: string } | null;
  },
): InvitedRole {
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
