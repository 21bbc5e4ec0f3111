/** Contract rows: exports, and the two-person approval of large ones (issue 16 item 4a). */
import { type TSchema, Type } from '@sinclair/typebox';
import {
  B64,
  Hex64,
  Id,
  Instant,
  KEY_HOLDER_ROLES,
  Origin,
  Reason,
  RecordTypeSchema,
  Uuid,
  Versioned,
} from '../vocabulary.ts';
import { Done, entry, keyAdminOn, Nullable, SealedRecord, SessionKeyMaterial, SessionOnly, signedIn } from './rows.ts';

export const ExportBegun = Type.Object({ exportId: Id, session: SessionKeyMaterial });

/** The caller's wrapped copy of each data key the page's records use, by key id. */
const wrappedDataKeys = Type.Record(Type.String(), B64);

export const ExportPage = Type.Object({
  records: Type.Array(Type.Object({ ...SealedRecord.properties, submittedAt: Instant })),
  wrappedDataKeys,
  /** The enc of each X-Wing record context the page's records use, by context id, once. */
  contexts: Type.Optional(Type.Record(Type.String(), B64)),
});

/**
 * One page of an export in the binary page format (export-page.ts), base64 once for the whole
 * page: `done` when no record is left after it. Up to 1 MiB of page, under NATS's default payload.
 */
export const ExportChunk = Type.Object({
  format: Type.Literal(1),
  page: Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: 1_000_000 }),
  done: Type.Boolean(),
  wrappedDataKeys,
});

/** `export.block`: the page itself is the reply frame's attachment (reply-frame.ts), not base64. */
export const ExportBlock = Type.Object({ done: Type.Boolean(), wrappedDataKeys });

/** One two-person export request (issue 16, item 4a), as the requester and key-admins see it. */
export const ExportApproval = Type.Object({
  id: Id,
  requester: Id,
  requesterEmail: Nullable(Type.String()),
  filter: Type.Object({ type: Nullable(RecordTypeSchema), from: Nullable(Instant), to: Nullable(Instant) }),
  reason: Type.String(),
  records: Type.Integer({ minimum: 0 }),
  requestedAt: Instant,
  status: Type.Union(['pending', 'approved', 'denied', 'used', 'expired'].map((s) => Type.Literal(s))),
  decidedBy: Nullable(Id),
  decidedAt: Nullable(Instant),
  /** Until when an approved request may be run. */
  usableUntil: Nullable(Instant),
});

/** An export request: `required` false means the filter is under the threshold, no approval needed. */
export const ExportRequested = Type.Object({
  required: Type.Boolean(),
  records: Type.Integer({ minimum: 0 }),
  approval: Nullable(ExportApproval),
});

export const ExportApprovals = Type.Object({ items: Type.Array(ExportApproval) });

/** What an export selects, audited with its reason. */
const Filter = {
  reason: Reason,
  type: Type.Optional(RecordTypeSchema),
  from: Type.Optional(Instant),
  to: Type.Optional(Instant),
};
const exporting = (audit: string) => ({ session: 'required', roles: KEY_HOLDER_ROLES, mfa: true, audit }) as const;
/** One page of an export this session began, in one of its three formats: the same request, larger pages for binary. */
const pageRow = <Rep extends TSchema>(maxLimit: number, reply: Rep) =>
  entry({
    request: Versioned({
      session: Hex64,
      exportId: Id,
      after: Type.Optional(Uuid),
      limit: Type.Integer({ minimum: 1, maximum: maxLimit }),
    }),
    reply,
    policy: { ...exporting('export'), target: 'exportId' },
  });

export const ExportsContract = {
  'export.begin': entry({
    request: Versioned({
      session: Hex64,
      ...Filter,
      /** issue 16 item 4a: the approved request this export runs, when the filter needs one. */
      approvalId: Type.Optional(Uuid),
      origin: Origin,
    }),
    reply: ExportBegun,
    policy: exporting('export'),
  }),
  /** One page of an export this session began: the vault applies the filter audited at the start. */
  'export.page': pageRow(2000, ExportPage),
  /**
   * The same page in the binary format (issue 14 item 4): one buffer per page instead of a JSON
   * object with base64 fields per record, larger pages. An admin plane falls back to
   * `export.page` when an older vault answers `unknown-operation`; both stay served.
   */
  'export.chunk': pageRow(8192, ExportChunk),
  /**
   * The same binary page, sent as it is: the reply is a binary frame (reply-frame.ts) whose
   * attachment is the page, signed once over it, instead of base64 in JSON in the JSON envelope.
   * An admin plane falls back to `export.chunk` when an older vault answers `unknown-operation`.
   */
  'export.block': pageRow(8192, ExportBlock),
  'export.finish': entry({
    request: Versioned({
      session: Hex64,
      exportId: Id,
      count: Type.Integer({ minimum: 0 }),
      outcome: Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('aborted')]),
      origin: Origin,
    }),
    reply: Done,
    policy: signedIn,
  }),

  // issue 16 item 4a: an export above the configured size waits for a second key-admin.
  /** Ask for an export: counts what the filter selects; above the threshold, a pending request. */
  'export.request': entry({
    request: Versioned({ session: Hex64, ...Filter, origin: Origin }),
    reply: ExportRequested,
    policy: exporting('export.request'),
  }),
  /** Key-admins see every request; a viewer sees their own. */
  'export.approvals': entry({
    request: SessionOnly,
    reply: ExportApprovals,
    policy: { session: 'required', roles: KEY_HOLDER_ROLES, audit: 'export.approvals' },
  }),
  /** A second key-admin (never the requester) approves or denies a pending request. */
  'export.decide': entry({
    request: Versioned({
      session: Hex64,
      approvalId: Uuid,
      decision: Type.Union([Type.Literal('approve'), Type.Literal('deny')]),
      origin: Origin,
    }),
    reply: ExportApproval,
    policy: keyAdminOn('export.decide', 'approvalId'),
  }),
} as const;
