/**
 * Two-person rule for confirming a key-admin (issue 16, item 4b), off unless configured: before a
 * key-admin confirms a new key-admin (and so hands them the org key and every data key), a second,
 * active key-admin must have compared the same fingerprint and co-signed exactly that public key.
 * A reset gives the person a new key, so an older co-signature no longer counts. While the
 * confirmer is the only active key-admin there is no second person: the rule waits until there is
 * (the first extra key-admin is confirmed by one person, as before).
 */
import type postgres from 'postgres';
import type { Caller } from './caller.ts';
import type { TwoPersonRules } from './export-approvals.ts';
import { auditOrRefuse } from './records.ts';
import { AdminError, type AdminHandlers } from './router.ts';

export async function requireCosign(
  sql: postgres.Sql,
  rules: TwoPersonRules,
  userId: string,
  caller: Caller,
): Promise<void> {
  if (!rules.confirmKeyAdminCosign) return;
  const [user] = await sql<{ role: string; public_key: string | null }[]>`
    SELECT role, public_key FROM users WHERE id::text = ${userId}`;
  if (user?.role !== 'key-admin' || !user.public_key) return; // the confirm handler refuses the rest
  const [others] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM users
    WHERE role = 'key-admin' AND status = 'active' AND id::text <> ${caller.userId}`;
  if (!others?.n) return;
  const [cosigned] = await sql`SELECT 1 FROM confirm_cosigns c JOIN users a ON a.id = c.admin_id
    WHERE c.user_id::text = ${userId} AND c.public_key = ${user.public_key} AND c.admin_id::text <> ${caller.userId}
      AND a.role = 'key-admin' AND a.status = 'active'`;
  if (!cosigned) {
    throw new AdminError(
      'approval-required',
      'confirming a key-admin needs a second key-admin to compare the fingerprint',
    );
  }
}

export function cosignHandlers(sql: postgres.Sql): Pick<AdminHandlers, 'users.cosign'> {
  return {
    'users.cosign': async (req, { now, caller }) =>
      sql.begin(async (tx) => {
        const [user] = await tx<{ role: string; status: string; public_key: string | null }[]>`
          SELECT role, status, public_key FROM users WHERE id = ${req.userId} FOR UPDATE`;
        if (!user) throw new AdminError('not-found', 'no such user');
        if (req.userId === caller.userId) throw new AdminError('forbidden', 'nobody co-signs their own key');
        if (user.status !== 'unconfirmed' || user.public_key !== req.publicKey) {
          throw new AdminError('conflict', 'this user is not waiting for confirmation with this key');
        }
        await tx`INSERT INTO confirm_cosigns (user_id, admin_id, public_key, at)
          VALUES (${req.userId}, ${caller.userId}, ${req.publicKey}, ${now})
          ON CONFLICT (user_id, admin_id) DO UPDATE SET public_key = EXCLUDED.public_key, at = EXCLUDED.at`;
        await auditOrRefuse(
          tx,
          { actor: caller.userId, action: 'user.cosign', target: req.userId, outcome: 'success', origin: req.origin },
          now,
        );
      }),
  };
}
