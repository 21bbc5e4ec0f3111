/**
 * People for the console: the list a key-admin manages from (role, status, MFA, last sign-in,
 * an open invite's expiry) and re-sending an invite that expired before it was accepted.
 */
import type { Role, UserStatus } from '@coffer/protocol';
import type postgres from 'postgres';
import { INVITE_MS } from './invites.ts';
import { auditOrRefuse } from './records.ts';
import { AdminError, type AdminHandlers } from './router.ts';

export function peopleHandlers(sql: postgres.Sql): Pick<AdminHandlers, 'users.list' | 'users.reinvite'> {
  return {
    'users.list': async () => {
      const rows = await sql<
        {
          id: string;
          email: string;
          role: Role;
          status: UserStatus;
          mfa: boolean;
          public_key: string | null;
          created_at: Date;
          confirmed_at: Date | null;
          last_signin: Date | null;
          invite_expires: Date | null;
        }[]
      >`SELECT u.id, u.email, u.role, u.status, u.totp_sealed IS NOT NULL AS mfa, u.public_key, u.created_at,
          u.confirmed_at,
          (SELECT max(a.at) FROM audit_events a
            WHERE a.actor = u.id::text AND a.action = 'signin' AND a.outcome = 'success') AS last_signin,
          (SELECT max(i.expires_at) FROM invites i WHERE i.user_id = u.id AND i.used_at IS NULL) AS invite_expires
        FROM users u ORDER BY u.created_at, u.email`;
      const iso = (d: Date | null) => d?.toISOString() ?? null;
      return {
        items: rows.map((r) => ({
          id: r.id,
          email: r.email,
          role: r.role,
          status: r.status,
          mfa: r.mfa,
          publicKey: r.public_key,
          createdAt: r.created_at.toISOString(),
          confirmedAt: iso(r.confirmed_at),
          lastSigninAt: iso(r.last_signin),
          inviteExpiresAt: r.status === 'invited' ? iso(r.invite_expires) : null,
        })),
      };
    },

    'users.reinvite': async (req, { now, caller }) => {
      const expiresAt = new Date(now.getTime() + INVITE_MS);
      return sql.begin(async (tx) => {
        const [user] = await tx<{ id: string }[]>`SELECT id FROM users
          WHERE id = ${req.userId} AND status = 'invited' FOR UPDATE`;
        if (!user) throw new AdminError('not-found', 'no invited user with this id');
        // The old link stops working whether or not it had expired: one live invite per person.
        await tx`DELETE FROM invites WHERE user_id = ${user.id}`;
        await tx`INSERT INTO invites (token_hash, user_id, expires_at) VALUES (${req.inviteHash}, ${user.id}, ${expiresAt})`;
        await auditOrRefuse(
          tx,
          { actor: caller.userId, action: 'user.reinvite', target: user.id, outcome: 'success', origin: req.origin },
          now,
        );
        return { id: user.id, expiresAt: expiresAt.toISOString() };
      });
    },
  };
}
