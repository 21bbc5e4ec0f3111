/**
 * TOTP enrolment, from the vault's side. The vault never sees a TOTP secret: the admin plane seals
 * it to the user's own key (coffer/totp/v1) and the vault stores the blob, first as pending, then,
 * once a code for it matched, as the user's enrolled secret. The step that code used is recorded,
 * so it cannot sign anyone in afterwards.
 */
import type postgres from 'postgres';
import { auditOrRefuse, sessionMaterial } from './records.ts';
import { AdminError, type AdminHandlers } from './router.ts';

type TotpOps = 'totp.material' | 'totp.pending' | 'totp.enrol' | 'totp.enrol-failed';

export function totpHandlers(sql: postgres.Sql): Pick<AdminHandlers, TotpOps> {
  return {
    'totp.material': async (_req, { caller }) => {
      const [row] = await sql<{ totp_pending: Buffer | null }[]>`
        SELECT totp_pending FROM users WHERE id = ${caller.userId}`;
      return {
        email: caller.email,
        pending: row?.totp_pending?.toString('base64') ?? null,
        enrolled: caller.totp,
        session: sessionMaterial(caller),
      };
    },

    'totp.pending': async (req, { caller }) => {
      await sql`UPDATE users SET totp_pending = ${Buffer.from(req.sealed, 'base64')} WHERE id = ${caller.userId}`;
    },

    'totp.enrol': async (req, { now, caller }) => {
      const event = { actor: caller.userId, action: 'totp.enrol', target: caller.userId, origin: req.origin };
      // Replacing an enrolled authenticator takes a session opened with it: otherwise a session
      // from before enrolment (or a stolen password) could take the second factor over.
      if (caller.totp && !caller.mfa) {
        await sql.begin((tx) =>
          auditOrRefuse(tx, { ...event, outcome: 'denied', details: { error: 'mfa-required' } }, now),
        );
        throw new AdminError('forbidden', 'replacing an enrolled authenticator needs a session opened with it');
      }
      const done = await sql.begin(async (tx) => {
        // Only the pending secret the code was checked against: a newer offer made meanwhile stays pending.
        const [row] = await tx`UPDATE users SET totp_sealed = totp_pending, totp_pending = NULL,
            totp_last_step = ${req.step}
          WHERE id = ${caller.userId} AND totp_pending = ${Buffer.from(req.pending, 'base64')} RETURNING id`;
        if (!row) return false;
        await auditOrRefuse(tx, { ...event, outcome: 'success', details: { replaced: caller.totp } }, now);
        return true;
      });
      if (!done) {
        await sql.begin((tx) => auditOrRefuse(tx, { ...event, outcome: 'failure', details: { error: 'stale' } }, now));
        throw new AdminError('conflict', 'the secret offered for enrolment changed; start again');
      }
    },

    'totp.enrol-failed': async (req, { now, caller }) => {
      await sql.begin((tx) =>
        auditOrRefuse(
          tx,
          {
            actor: caller.userId,
            action: 'totp.enrol',
            target: caller.userId,
            outcome: 'failure',
            origin: req.origin,
            details: { error: req.error },
          },
          now,
        ),
      );
    },
  };
}
