/**
 * TOTP enrolment, from the vault's side. The vault never sees a TOTP secret: the admin plane seals
 * it to the user's own key (coffer/totp/v1) and the vault stores the blob, first as pending, then,
 * once a code for it matched, as the user's enrolled secret. The step that code used is recorded,
 * so it cannot sign anyone in afterwards.
 */
import type { AdminRequest } from '@coffer/protocol';
import type postgres from 'postgres';
import { needsEnrolCode, useEnrolCode } from './enrol-codes.ts';
import { auditOrRefuse, sessionMaterial } from './records.ts';
import { AdminError, type AdminHandlers, type OpContext } from './router.ts';

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

    'totp.pending': (req, ctx) => totpPending(sql, req, ctx),

    'totp.enrol': (req, ctx) => totpEnrol(sql, req, ctx),

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

async function totpPending(
  sql: postgres.Sql,
  req: AdminRequest<'totp.pending'>,
  { now, caller }: OpContext<'totp.pending'>,
): Promise<void> {
  const sealed = Buffer.from(req.sealed, 'base64');
  if (req.enrolCode === undefined && !needsEnrolCode(caller)) {
    await sql`UPDATE users SET totp_pending = ${sealed}, totp_pending_authorised = false WHERE id = ${caller.userId}`;
    return;
  }
  // issue 9 item 3: a confirmed account's first authenticator is not enrolled on the password
  // alone. A code also lets someone who lost their authenticator enrol a new one.
  const event = { actor: caller.userId, action: 'totp.enrol-code', target: caller.userId };
  const origin = req.origin ? { origin: req.origin } : {};
  const code = req.enrolCode;
  const used =
    code !== undefined &&
    (await sql.begin(async (tx) => {
      if (!(await useEnrolCode(tx, caller.userId, code, now))) return false;
      await tx`UPDATE users SET totp_pending = ${sealed}, totp_pending_authorised = true WHERE id = ${caller.userId}`;
      await auditOrRefuse(tx, { ...event, ...origin, outcome: 'success' }, now);
      return true;
    }));
  if (used) return;
  const error = code === undefined ? 'enrol-code-required' : 'enrol-code-invalid';
  await sql.begin((tx) => auditOrRefuse(tx, { ...event, ...origin, outcome: 'denied', details: { error } }, now));
  throw new AdminError(
    error,
    code === undefined
      ? 'this account needs a one-time enrolment code from a key-admin to set up an authenticator'
      : 'the enrolment code is wrong, used or expired',
  );
}

async function totpEnrol(
  sql: postgres.Sql,
  req: AdminRequest<'totp.enrol'>,
  { now, caller }: OpContext<'totp.enrol'>,
): Promise<void> {
  const event = { actor: caller.userId, action: 'totp.enrol', target: caller.userId, origin: req.origin };
  // Replacing an enrolled authenticator takes a session opened with it: otherwise a session
  // from before enrolment (or a stolen password) could take the second factor over.
  const [pending] = await sql<{ authorised: boolean }[]>`
    SELECT totp_pending_authorised AS authorised FROM users WHERE id = ${caller.userId}`;
  const refusal = pending?.authorised
    ? undefined
    : caller.totp && !caller.mfa
      ? 'mfa-required'
      : needsEnrolCode(caller)
        ? 'enrol-code-required'
        : undefined;
  if (refusal) {
    await sql.begin((tx) => auditOrRefuse(tx, { ...event, outcome: 'denied', details: { error: refusal } }, now));
    throw refusal === 'mfa-required'
      ? new AdminError('forbidden', 'replacing an enrolled authenticator needs a session opened with it')
      : new AdminError(refusal, 'this account needs a one-time enrolment code from a key-admin');
  }
  const done = await sql.begin(async (tx) => {
    // Only the pending secret the code was checked against: a newer offer made meanwhile stays pending.
    const [row] = await tx`UPDATE users SET totp_sealed = totp_pending, totp_pending = NULL,
        totp_pending_authorised = false, totp_last_step = ${req.step}
      WHERE id = ${caller.userId} AND totp_pending = ${Buffer.from(req.pending, 'base64')} RETURNING id`;
    if (!row) return false;
    await auditOrRefuse(tx, { ...event, outcome: 'success', details: { replaced: caller.totp } }, now);
    return true;
  });
  if (!done) {
    await sql.begin((tx) => auditOrRefuse(tx, { ...event, outcome: 'failure', details: { error: 'stale' } }, now));
    throw new AdminError('conflict', 'the secret offered for enrolment changed; start again');
  }
}
