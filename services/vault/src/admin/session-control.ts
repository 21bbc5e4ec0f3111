/**
 * Session control (issue 16 item 2): key-admins see every live session and end any of them; a
 * person ends one of their own other sessions. Ending deletes the session row, and with it the
 * user key wrapped under the session's token: the cookie opens nothing from the next request on,
 * and a copy of the database taken later holds no key for it. Each ending is audited in the
 * same transaction as the delete, so there is no unaudited ending and no audited non-ending.
 */
import type { Role } from '@coffer/protocol';
import type postgres from 'postgres';
import { appendAudit } from '../audit.ts';
import type { Caller } from './caller.ts';
import { AdminError, type AdminHandlers } from './router.ts';

/** Where a session was opened from: the origin the admin plane recorded ("ip user-agent"). */
export const SIGNIN_ORIGIN = (sql: postgres.Sql) => sql`(SELECT a.origin FROM audit_events a
  WHERE a.action = 'signin' AND a.outcome = 'success' AND a.target = s.id::text ORDER BY a.seq DESC LIMIT 1)`;

/** The admin plane's origin is the client IP, a space, then the user agent (session.ts originOf). */
export function splitOrigin(origin: string | null): { ip: string | null; userAgent: string | null } {
  if (!origin) return { ip: null, userAgent: null };
  const space = origin.indexOf(' ');
  if (space < 0) return { ip: origin, userAgent: null };
  return { ip: origin.slice(0, space), userAgent: origin.slice(space + 1) };
}

/** A sessions row's times, as both session lists show them (ISO 8601 UTC). */
export interface SessionTimesRow {
  readonly created_at: Date;
  readonly last_seen_at: Date;
  readonly idle_expires_at: Date;
  readonly absolute_expires_at: Date;
}

export function sessionTimes(r: SessionTimesRow) {
  return {
    createdAt: r.created_at.toISOString(),
    lastSeenAt: r.last_seen_at.toISOString(),
    idleExpiresAt: r.idle_expires_at.toISOString(),
    absoluteExpiresAt: r.absolute_expires_at.toISOString(),
  };
}

interface EndOptions {
  readonly sessionId: string;
  readonly caller: Caller;
  readonly origin: string;
  readonly now: Date;
  /** Ending one's own session: only the caller's, and never the one making the call. */
  readonly ownOnly: boolean;
}

export async function endSession(sql: postgres.Sql, o: EndOptions): Promise<{ ended: number }> {
  return sql.begin(async (tx) => {
    const [row] = await tx<{ user_id: string }[]>`DELETE FROM sessions
      WHERE id = ${o.sessionId}
        AND (${!o.ownOnly} OR (user_id = ${o.caller.userId} AND id <> ${o.caller.sessionId}))
      RETURNING user_id`;
    // Someone else's session, or an unknown one, reads alike to a person ending their own.
    if (!row) throw new AdminError('not-found', 'no such live session');
    await appendAudit(
      tx,
      {
        actor: o.caller.userId,
        action: 'session.end',
        target: o.sessionId,
        outcome: 'success',
        origin: o.origin,
        details: { user: row.user_id, by: o.ownOnly ? 'self' : 'key-admin' },
      },
      o.now,
    );
    return { ended: 1 };
  });
}

export function sessionControlHandlers(
  sql: postgres.Sql,
): Pick<AdminHandlers, 'sessions.list' | 'sessions.end' | 'me.sessions.end'> {
  return {
    'sessions.list': async (req, { now }) => {
      const rows = await sql<
        (SessionTimesRow & {
          id: string;
          user_id: string;
          email: string;
          role: Role;
          mfa: boolean;
          current: boolean;
          origin: string | null;
        })[]
      >`SELECT s.id, s.user_id, u.email, u.role, s.created_at, s.last_seen_at, s.idle_expires_at,
          s.absolute_expires_at, s.mfa, s.token_hash = ${req.session} AS current, ${SIGNIN_ORIGIN(sql)} AS origin
        FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.idle_expires_at > ${now} AND s.absolute_expires_at > ${now}
        ORDER BY s.last_seen_at DESC LIMIT 1000`;
      return {
        items: rows.map((r) => ({
          id: r.id,
          userId: r.user_id,
          email: r.email,
          role: r.role,
          ...sessionTimes(r),
          mfa: r.mfa ? ('totp' as const) : ('none' as const),
          current: r.current,
          ...splitOrigin(r.origin),
        })),
      };
    },

    'sessions.end': (req, { now, caller }) =>
      endSession(sql, { sessionId: req.sessionId, caller, origin: req.origin, now, ownOnly: false }),

    'me.sessions.end': (req, { now, caller }) =>
      endSession(sql, { sessionId: req.sessionId, caller, origin: req.origin, now, ownOnly: true }),
  };
}
