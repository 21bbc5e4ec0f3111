/** Contract rows: one's own sessions, and key-admins' view of everyone's. */
import { Type } from '@sinclair/typebox';
import { Hex64, Id, Origin, RoleSchema, Uuid, Versioned } from '../vocabulary.ts';
import { entry, keyAdmin, keyAdminOn, Nullable, ownRow, SessionOnly, SessionTimes } from './rows.ts';

/** The caller's own live sessions (me.sessions). */
export const OwnSessions = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Id,
      ...SessionTimes,
      mfa: Type.Boolean(),
      current: Type.Boolean(),
      origin: Nullable(Type.String()),
    }),
  ),
});

/** Every live session, for key-admins (sessions.list). `mfa` is the second factor the session was opened with. */
export const LiveSessions = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Id,
      userId: Id,
      email: Type.String(),
      role: RoleSchema,
      ...SessionTimes,
      mfa: Type.Union([Type.Literal('totp'), Type.Literal('none')]),
      current: Type.Boolean(),
      ip: Nullable(Type.String()),
      userAgent: Nullable(Type.String()),
    }),
  ),
});

export const SessionsEnded = Type.Object({ ended: Type.Integer() });

const EndOne = Versioned({ session: Hex64, sessionId: Uuid, origin: Origin });

export const SessionsContract = {
  /** The caller's own live sessions, this one marked. */
  'me.sessions': ownRow(SessionOnly, OwnSessions),
  /** End every other session of the caller. */
  'me.sessions.end-others': ownRow(Versioned({ session: Hex64, origin: Origin }), SessionsEnded),
  /** End one other session of the caller's own: its row and wrapped key go at once. Audited. */
  'me.sessions.end': ownRow(EndOne, SessionsEnded),
  /** Key-admins: every live session (who, from where, when, with which second factor). */
  'sessions.list': entry({ request: SessionOnly, reply: LiveSessions, policy: keyAdmin('sessions.list') }),
  /** Key-admins: end any session; its wrapped key is deleted in the same transaction. Audited. */
  'sessions.end': entry({ request: EndOne, reply: SessionsEnded, policy: keyAdminOn('session.end', 'sessionId') }),
} as const;
