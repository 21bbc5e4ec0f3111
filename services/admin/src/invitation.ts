/**
 * Role binding (issue 9, item 1), the admin plane's part: after `users.invite`, sign the invitation
 * with the org key opened through the inviting key-admin's session (@coffer/keyring) and store it
 * with the vault. At confirmation the routes take the role from that statement (`grantedRole`).
 */
import { callVault } from '@coffer/bus';
import { type InvitedRole, signedInvitation } from '@coffer/keyring';
import type { InviteMade } from '@coffer/protocol';
import type { AdminDeps } from './routes/deps.ts';
import type { SessionAuth } from './session.ts';
import { withSessionHolder } from './session-holder.ts';

/** Sign the invitation for the user `made` just now and store it with the vault. */
export async function signInvitationFor(
  deps: AdminDeps,
  session: SessionAuth,
  made: InviteMade,
  invited: { email: string; role: InvitedRole },
  origin: string,
): Promise<void> {
  const { invitation, signature } = withSessionHolder(session.token, made.session, (holder) =>
    signedInvitation(holder, made, {
      userId: made.id,
      email: invited.email,
      role: invited.role,
      expiresAt: made.expiresAt,
    }),
  );
  await callVault(deps.bus, 'users.invitation', {
    v: 1,
    session: session.hash,
    userId: made.id,
    invitation,
    signature,
    origin,
  });
}
