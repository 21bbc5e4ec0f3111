/**
 * The policy column of the contract table, applied: who is calling (a live session, kept alive by
 * this call), whether their role and status allow the operation, and whether COFFER_REQUIRE_MFA
 * asks for a session opened with a TOTP code. Every refusal is audited and committed, so it stays
 * (in its own transaction, or for ONE_TRANSACTION_OPS with the session touch). This is the only
 * place the vault checks sessions, roles and MFA.
 */
import { type AdminOperation, KEY_HOLDER_ROLES, type Role, type UserStatus } from '@coffer/protocol';
import type postgres from 'postgres';
import { appendAudit } from '../audit.ts';
import type { Caller } from './caller.ts';
import { AdminError, type OneTransaction, type PolicyGate } from './router.ts';

export const IDLE_MS = 15 * 60 * 1000;
export const ABSOLUTE_MS = 8 * 60 * 60 * 1000;

export type { Caller };

/** The database, or the transaction a request runs in (`oneTransaction`). */
type Db = postgres.Sql | postgres.TransactionSql;

/** Run `fn` in a transaction: `db`'s own if it is one, else a new one. */
const inTransaction = <T>(db: Db, fn: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> =>
  'savepoint' in db ? fn(db) : (db.begin(fn) as Promise<T>);

/** The roles that must sign in with a TOTP code (when required): those that hold data keys. */
export const MFA_ROLES: readonly Role[] = KEY_HOLDER_ROLES;

/** The live session behind a token hash, kept alive by this call; or 'unauthenticated'. */
export async function authenticate(sql: Db, session: string, now: Date): Promise<Caller> {
  // One statement on the common path: touch a live session. Only when none answers is an expired
  // one (and its wrapped key) deleted, so that it cannot linger until the janitor runs.
  const [row] = await sql<
    {
      id: string;
      user_id: string;
      email: string;
      role: Role;
      status: UserStatus;
      wrapped_key: Buffer;
      mfa: boolean;
      mfa_method: 'totp' | 'passkey' | null;
      totp: boolean;
    }[]
  >`UPDATE sessions s SET last_seen_at = ${now},
        idle_expires_at = LEAST(${new Date(now.getTime() + IDLE_MS)}, s.absolute_expires_at)
      FROM users u
      WHERE s.token_hash = ${session} AND u.id = s.user_id AND u.status IN ('active', 'unconfirmed')
        AND s.idle_expires_at > ${now} AND s.absolute_expires_at > ${now}
      RETURNING s.id, s.user_id, u.email, u.role, u.status, s.wrapped_key, s.mfa, s.mfa_method,
                u.totp_sealed IS NOT NULL AS totp`;
  if (!row) {
    await sql`DELETE FROM sessions WHERE token_hash = ${session}
      AND (idle_expires_at <= ${now} OR absolute_expires_at <= ${now})`;
    throw new AdminError('unauthenticated', 'no live session');
  }
  return {
    sessionId: row.id,
    userId: row.user_id,
    email: row.email,
    role: row.role,
    status: row.status,
    wrappedKey: row.wrapped_key,
    mfa: row.mfa,
    passkey: row.mfa_method === 'passkey',
    totp: row.totp,
  };
}

/** What a refusal is audited as: the action refused, what it was about, and where it came from. */
export interface Refused {
  readonly action: string;
  readonly target: string | null;
  readonly origin: string;
}

async function auditRefusal(db: Db, caller: Caller, refused: Refused, details: Record<string, string>, now: Date) {
  await inTransaction(db, (tx) =>
    appendAudit(tx, { actor: caller.userId, ...refused, outcome: 'denied', details }, now),
  );
}

/**
 * Authority comes with confirmation: an unconfirmed user (who accepted an invite but whose
 * fingerprint no key-admin has checked yet) may sign in, change their password and enrol TOTP,
 * and nothing else.
 */
export async function requireRole(
  sql: Db,
  caller: Caller,
  roles: readonly Role[],
  refused: Refused,
  now: Date,
): Promise<void> {
  if (roles.includes(caller.role) && caller.status === 'active') return;
  await auditRefusal(sql, caller, refused, { role: caller.role, status: caller.status }, now);
  throw new AdminError(
    'forbidden',
    caller.status === 'active'
      ? `a ${caller.role} may not ${refused.action}`
      : 'an unconfirmed user may not do this yet',
  );
}

/**
 * With MFA required, a viewer or key-admin reveals, exports and manages people and keys only from
 * a session opened with a TOTP code. The vault is the only plane that checks this.
 */
export async function requireMfa(sql: Db, caller: Caller, refused: Refused, now: Date): Promise<void> {
  if (caller.mfa || !MFA_ROLES.includes(caller.role)) return;
  await auditRefusal(sql, caller, refused, { reason: 'mfa-required' }, now);
  throw new AdminError('mfa-required', `a ${caller.role} must sign in with a TOTP code to ${refused.action}`);
}

/**
 * With COFFER_REQUIRE_PASSKEY_FOR_KEY_ADMINS, a key-admin does what needs MFA only from a session
 * opened with a passkey (phishing-resistant), whatever COFFER_REQUIRE_MFA says.
 */
export async function requirePasskey(sql: Db, caller: Caller, refused: Refused, now: Date): Promise<void> {
  if (caller.passkey || caller.role !== 'key-admin') return;
  await auditRefusal(sql, caller, refused, { reason: 'passkey-required' }, now);
  throw new AdminError('passkey-required', `a key-admin must sign in with a passkey to ${refused.action}`);
}

export interface GateOptions {
  /** COFFER_REQUIRE_MFA: operations whose policy says `mfa` need a TOTP session. */
  readonly requireMfa: boolean;
  /** COFFER_REQUIRE_PASSKEY_FOR_KEY_ADMINS: for a key-admin, that second factor is a passkey. */
  readonly passkeyForKeyAdmins?: boolean;
}

/** The policy step of the router, backed by the database. */
export function policyGate(sql: postgres.Sql, options: GateOptions): PolicyGate {
  return async (policy, request, now, tx) => {
    if (policy.session === 'none') return {};
    const db = tx ?? sql;
    const session = String(request.session);
    if (policy.session === 'optional') {
      // Only a live session's requests count; a stranger's junk token gets nothing done.
      return { caller: await authenticate(db, session, now).catch(() => undefined) };
    }
    const caller = await authenticate(db, session, now);
    const refused: Refused = {
      action: policy.audit ?? 'admin',
      target: policy.target ? String(request[policy.target]) : null,
      origin: typeof request.origin === 'string' ? request.origin : '',
    };
    if (policy.roles) await requireRole(db, caller, policy.roles, refused, now);
    if (policy.mfa && options.requireMfa) await requireMfa(db, caller, refused, now);
    if (policy.mfa && options.passkeyForKeyAdmins) await requirePasskey(db, caller, refused, now);
    return { caller };
  };
}

/**
 * Refusals that are decided and audited (or, for a dead session, cleaned up) before anything is
 * served: in one transaction they must still commit, or the denial would vanish from the audit.
 * Any other failure — `audit-unavailable` above all — rolls everything back, the session touch
 * included: a reveal whose audit event cannot be written leaves no trace and serves nothing.
 */
const COMMITTED_REFUSALS: ReadonlySet<string> = new Set([
  'unauthenticated',
  'forbidden',
  'mfa-required',
  'not-found',
  'no-access',
]);

/** The operations that run gate and handler in one transaction: one commit each. */
export const ONE_TRANSACTION_OPS: ReadonlySet<AdminOperation> = new Set([
  'records.reveal',
  'export.chunk',
  'export.block',
]);

/** One transaction for the gate (authenticate, touch, policy) and the handler (audit, reply). */
export function oneTransaction(sql: postgres.Sql): OneTransaction {
  return async <T>(run: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> => {
    const outcome = (await sql.begin(async (tx) => {
      try {
        return { done: await run(tx) };
      } catch (err) {
        if (err instanceof AdminError && COMMITTED_REFUSALS.has(err.code)) return { refused: err };
        throw err;
      }
    })) as { done: T } | { refused: AdminError };
    if ('refused' in outcome) throw outcome.refused;
    return outcome.done;
  };
}
