/** Contract rows: reading and verifying the audit log. */
import { Type } from '@sinclair/typebox';
import { Hex64, Instant, NO_NUL, ROLES, Versioned } from '../vocabulary.ts';
import { entry, Nullable, SessionOnly } from './rows.ts';

export const AuditPage = Type.Object({
  items: Type.Array(
    Type.Object({
      seq: Type.Integer(),
      at: Instant,
      actor: Type.String(),
      action: Type.String(),
      target: Nullable(Type.String()),
      reason: Nullable(Type.String()),
      outcome: Type.String(),
    }),
  ),
  next: Nullable(Type.Integer()),
});

/** Audit events for the console, with cursors both ways (audit.search). */
export const AuditSearchPage = Type.Object({
  items: Type.Array(
    Type.Object({
      seq: Type.Integer(),
      at: Instant,
      actor: Type.String(),
      actorEmail: Nullable(Type.String()),
      action: Type.String(),
      target: Nullable(Type.String()),
      reason: Nullable(Type.String()),
      outcome: Type.String(),
      origin: Nullable(Type.String()),
      details: Nullable(Type.Record(Type.String(), Type.Unknown())),
    }),
  ),
  /** Cursor for `before=`: null when nothing older. */
  older: Nullable(Type.Integer()),
  /** Cursor for `after=`: null when nothing newer. */
  newer: Nullable(Type.Integer()),
});

/**
 * The chain walk judged against the latest checkpoint signed outside the database (`checkpoint`
 * says how: verified, truncated, rewritten, forged, none, off …), and the checkpoint key to pin.
 */
export const ChainVerdict = Type.Object({
  ok: Type.Boolean(),
  events: Type.Integer(),
  head: Type.Optional(Type.String()),
  brokenAt: Type.Optional(Type.Integer()),
  checkpoint: Type.Object({ status: Type.String() }),
  checkpointKey: Nullable(Type.String()),
});

const Seq = Type.Integer({ minimum: 0, maximum: 2 ** 52 });
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: NO_NUL });
const auditors = (audit: string) => ({ session: 'required', roles: ['auditor', 'key-admin'], audit }) as const;

export const AuditContract = {
  'audit.list': entry({
    request: Versioned({
      session: Hex64,
      after: Type.Optional(Type.Integer({ minimum: 0 })),
      limit: Type.Integer({ minimum: 1, maximum: 500 }),
    }),
    reply: AuditPage,
    policy: auditors('audit.list'),
  }),
  'audit.verify': entry({ request: SessionOnly, reply: ChainVerdict, policy: auditors('audit.verify') }),

  /**
   * Audit events newest first, filtered; `before` pages to older events, `after` to newer ones
   * (at most one of them). Actors come with their email where the actor is a user. A viewer reads
   * only their own events (the handler narrows them); auditors and key-admins read everyone's.
   */
  'audit.search': entry({
    request: Versioned({
      session: Hex64,
      before: Type.Optional(Seq),
      after: Type.Optional(Seq),
      actor: Type.Optional(Text(254)),
      action: Type.Optional(Text(64)),
      target: Type.Optional(Text(128)),
      outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')])),
      from: Type.Optional(Instant),
      to: Type.Optional(Instant),
      limit: Type.Integer({ minimum: 1, maximum: 500 }),
    }),
    reply: AuditSearchPage,
    policy: { session: 'required', roles: ROLES, audit: 'audit.list' },
  }),
} as const;
