/** Contract rows: listing, searching and revealing records. */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import {
  B64,
  Hex64,
  Id,
  Instant,
  KEY_HOLDER_ROLES,
  Origin,
  Reason,
  RecordTypeSchema,
  ROLES,
  Uuid,
  Versioned,
} from '../vocabulary.ts';
import { Done, entry, Nullable, SealedRecord, SessionKeyMaterial } from './rows.ts';

const HintSource = Type.Union([Type.Literal('ingest'), Type.Literal('client')]);
const recordPage = <H extends TSchema>(hintSource: H) =>
  Type.Object({
    items: Type.Array(
      Type.Object({
        id: Id,
        type: RecordTypeSchema,
        hint: Nullable(Type.String()),
        hintSource,
        keyId: Id,
        submittedAt: Instant,
      }),
    ),
    next: Nullable(Id),
  });

/** `hintSource` 'client': sealed by the submitter, so the hint is the client's claim, not checked by anyone. */
export const RecordPage = recordPage(HintSource);
/**
 * Records metadata for the console's search (records.search). `hintSource` as in records.list,
 * optional because a vault before it omits it (the console then marks nothing).
 */
export const RecordSearchPage = recordPage(Type.Optional(HintSource));

/** What the vault returns to open one record: the sealed value and this user's keys for it. */
export const SealedForUser = Type.Object({ record: SealedRecord, wrappedDataKey: B64, session: SessionKeyMaterial });
export type SealedForUser = Static<typeof SealedForUser>;

const listed = { session: 'required', roles: ROLES, audit: 'records.list' } as const;
// The reveal's follow-ups are audited as the reveal they follow; the reveal itself wants the second factor.
const revealed = { session: 'required', roles: KEY_HOLDER_ROLES, audit: 'record.reveal', target: 'recordId' } as const;

export const RecordsContract = {
  'records.list': entry({
    request: Versioned({
      session: Hex64,
      type: Type.Optional(RecordTypeSchema),
      before: Type.Optional(Uuid),
      limit: Type.Integer({ minimum: 1, maximum: 500 }),
    }),
    reply: RecordPage,
    policy: listed,
  }),
  /** Audit first, then return the sealed record and this user's keys to open it. */
  'records.reveal': entry({
    request: Versioned({
      session: Hex64,
      recordId: Id,
      reason: Reason,
      origin: Origin,
      /** Names this reveal, so a `records.reveal-undelivered` can say which one never arrived. */
      requestId: Type.Optional(Uuid),
    }),
    reply: SealedForUser,
    policy: { session: 'required', roles: KEY_HOLDER_ROLES, mfa: true, audit: 'record.reveal', target: 'recordId' },
  }),
  /**
   * The admin plane timed out waiting for a reveal (issue 9 item 4d): audit that the person did
   * not receive it, and never release that request after this.
   */
  'records.reveal-undelivered': entry({
    request: Versioned({ session: Hex64, recordId: Id, requestId: Uuid, error: Id, origin: Origin }),
    reply: Done,
    policy: revealed,
  }),
  /** The admin plane could not open what it was given: audit the failure. */
  'records.reveal-failed': entry({
    request: Versioned({ session: Hex64, recordId: Id, error: Id, origin: Origin }),
    reply: Done,
    policy: revealed,
  }),
  /** Records metadata, newest first, by type and submission time; `before` pages to older ones. */
  'records.search': entry({
    request: Versioned({
      session: Hex64,
      type: Type.Optional(RecordTypeSchema),
      from: Type.Optional(Instant),
      to: Type.Optional(Instant),
      before: Type.Optional(Uuid),
      limit: Type.Integer({ minimum: 1, maximum: 500 }),
    }),
    reply: RecordSearchPage,
    policy: listed,
  }),
} as const;
