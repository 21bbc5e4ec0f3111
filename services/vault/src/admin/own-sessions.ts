/** A user's own live sessions: the list (where each was opened from) and ending all but this one. */
import type postgres from 'postgres';
import { appendAudit } from '../audit.ts';
import type { AdminHandlers } from './router.ts';
import { type SessionTimesRow, SIGNIN_ORIGIN, sessionTimes } from './session-control.ts';

export function ownSessionHandlers(sql: postgres.Sql): Pick<AdminHandlers, 'me.sessions' | 'me.sessions.end-others'> {
  return {
    'me.sessions': async (req, { now, caller }) => {
      const rows = await sql<
        (SessionTimesRow & { id: string; mfa: boolean; current: boolean; origin: string | null })[]
      >`
        SELECT s.id, s.created_at, s.last_seen_at, s.idle_expires_at, s.absolute_expires_at, s.mfa,
          s.token_hash = ${req.session} AS current, ${SIGNIN_ORIGIN(sql)} AS origin
        FROM sessions s
        WHERE s.user_id = ${caller.userId} AND s.idle_expires_at > ${now} AND s.absolute_expires_at > ${now}
        ORDER BY s.created_at DESC`;
      return {
        items: rows.map((r) => ({
          id: r.id,
          ...sessionTimes(r),
          mfa: r.mfa,
          current: r.current,
          origin: r.origin,
        })),
      };
    },

    'me.sessions.end-others': async (req, { now, caller }) => {
      return sql.begin(async (tx) => {
        const ended = await tx`DELETE FROM sessions WHERE user_id = ${caller.userId} AND token_hash <> ${req.session}
          RETURNING id`;
        await appendAudit(
          tx,
          {
            actor: caller.userId,
            action: 'sessions.end-others',
            target: caller.sessionId,
            outcome: 'success',
            origin: req.origin,
            details: { ended: ended.length },
          },
          now,
        );
        return { ended: ended.length };
      });
    },
  };
}
