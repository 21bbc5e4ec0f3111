/**
 * Break-glass delay (issue 16, item 4c), off unless COFFER_RECOVERY_DELAY_MINUTES is set: a
 * key-admin made by `coffer recover` is stored unconfirmed — they can sign in, and the policy gate
 * refuses them everything a role allows, revoking people included — and holds no key until the
 * delay has passed; the vault's minute janitor then moves the held copies into wrapped_keys and
 * makes the account active (audited `recovery.release`). Until then every key-admin sees the hold (Approvals) and any one of them
 * cancels it, which revokes the recovered account.
 */
import type postgres from 'postgres';
import type { Caller } from './caller.ts';
import { auditOrRefuse } from './records.ts';
import { AdminError, type AdminHandlers } from './router.ts';
import { copyToUser, insertWrappedKeys } from './wrapped-keys.ts';

export interface Held {
  kind: 'org' | 'data';
  id: string;
  wrapped: string;
}

/** Hand over every hold whose time has come; returns how many key-admins got their keys. */
export async function releaseRecoveryHolds(sql: postgres.Sql, now: Date): Promise<number> {
  const due = await sql<{ user_id: string }[]>`SELECT user_id FROM recovery_holds WHERE release_at <= ${now}`;
  let released = 0;
  for (const { user_id } of due) {
    await sql.begin(async (tx) => {
      const [hold] = await tx<{ copies: Held[] }[]>`DELETE FROM recovery_holds
        WHERE user_id = ${user_id} AND release_at <= ${now} RETURNING copies`;
      if (!hold) return; // another replica released it, or a key-admin cancelled it
      const keys = await handOver(tx, user_id, hold.copies, now);
      await auditOrRefuse(
        tx,
        { actor: 'vault', action: 'recovery.release', target: user_id, outcome: 'success', details: { keys } },
        now,
      );
      released++;
    });
  }
  return released;
}

/** Move a deleted hold's copies into wrapped_keys and make the account active; returns how many. */
export async function handOver(tx: postgres.TransactionSql, userId: string, held: Held[], now: Date) {
  const copies = held.map((c) => copyToUser(userId, c));
  await insertWrappedKeys(tx, copies, 'keep');
  await tx`UPDATE users SET status = 'active', confirmed_at = ${now} WHERE id = ${userId} AND status = 'unconfirmed'`;
  return copies.length;
}

/** Drop a hold before a key-admin revokes the recovered account (the revoke is audited on its own). */
export async function cancelRecoveryHold(sql: postgres.Sql, userId: string, caller: Caller, origin: string, now: Date) {
  if (userId === caller.userId) throw new AdminError('conflict', 'nobody cancels their own recovery');
  await sql.begin(async (tx) => {
    const [hold] = await tx`DELETE FROM recovery_holds WHERE user_id = ${userId} RETURNING user_id`;
    if (!hold) throw new AdminError('not-found', 'no break-glass recovery is waiting for this user');
    await auditOrRefuse(
      tx,
      { actor: caller.userId, action: 'recovery.cancel', target: userId, outcome: 'success', origin },
      now,
    );
  });
}

export function recoveryHoldHandlers(sql: postgres.Sql): Pick<AdminHandlers, 'recovery.holds'> {
  return {
    'recovery.holds': async () => {
      const rows = await sql<{ user_id: string; email: string; held_at: Date; release_at: Date }[]>`
        SELECT h.user_id, u.email, h.held_at, h.release_at FROM recovery_holds h JOIN users u ON u.id = h.user_id
        ORDER BY h.held_at`;
      return {
        items: rows.map((r) => ({
          userId: r.user_id,
          email: r.email,
          heldAt: r.held_at.toISOString(),
          releaseAt: r.release_at.toISOString(),
        })),
      };
    },
  };
}
