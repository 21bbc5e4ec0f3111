/**
 * Requests the staff console needs beyond the core admin contract (AdminApi): a list of people,
 * re-sending an invite, searching records and the audit log, and a user's own sessions. Same
 * conventions: `session` is hex SHA-256 of the caller's token; the vault checks it on every call.
 */
import { type TSchema, Type } from '@sinclair/typebox';
import { RECORD_TYPES } from './values.ts';

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const NO_NUL = '^[^\\u0000]*$';
const Origin = Type.String({ maxLength: 200, pattern: NO_NUL });
const Instant = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$' });
const Seq = Type.Integer({ minimum: 0, maximum: 2 ** 52 });
const Limit = Type.Integer({ minimum: 1, maximum: 500 });
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: NO_NUL });

const strict = <T extends Record<string, TSchema>>(props: T) =>
  Type.Object({ v: Type.Literal(1), ...props }, { additionalProperties: false });

export const ConsoleApi = {
  /** Key-admins: every user with role, status, MFA, last sign-in and the open invite's expiry. */
  'users.list': strict({ session: Hex64 }),
  /** Key-admins: a new invite for a user still in `invited` (the old one, used or not, is dropped). */
  'users.reinvite': strict({ session: Hex64, userId: Uuid, inviteHash: Hex64, origin: Origin }),
  /** Records metadata, newest first, by type and submission time; `before` pages to older ones. */
  'records.search': strict({
    session: Hex64,
    type: Type.Optional(Type.Union(RECORD_TYPES.map((t) => Type.Literal(t)))),
    from: Type.Optional(Instant),
    to: Type.Optional(Instant),
    before: Type.Optional(Uuid),
    limit: Limit,
  }),
  /**
   * Audit events newest first, filtered; `before` pages to older events, `after` to newer ones
   * (at most one of them). Actors come with their email where the actor is a user.
   */
  'audit.search': strict({
    session: Hex64,
    before: Type.Optional(Seq),
    after: Type.Optional(Seq),
    actor: Type.Optional(Text(254)),
    action: Type.Optional(Text(64)),
    target: Type.Optional(Text(128)),
    outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')])),
    from: Type.Optional(Instant),
    to: Type.Optional(Instant),
    limit: Limit,
  }),
  /** The caller's own live sessions, this one marked. */
  'me.sessions': strict({ session: Hex64 }),
  /** End every other session of the caller. */
  'me.sessions.end-others': strict({ session: Hex64, origin: Origin }),
} as const;

export type ConsoleOperation = keyof typeof ConsoleApi;
