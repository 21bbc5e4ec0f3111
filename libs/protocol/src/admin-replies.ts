/**
 * What the vault answers on `vault.admin.<op>`: one schema per reply shape, checked by the client
 * at run time (a reply that does not match is a MalformedReply, never a cast). Reply objects are
 * open to extra fields, so a vault that adds one does not break an older admin plane; every field
 * named here is required to have its type.
 */
import { type Static, Type } from '@sinclair/typebox';
import { OrgConfigJson } from './admin-messages.ts';
import { DataKeyBundleJson } from './messages.ts';
import { B64, Id, Instant, RecordTypeSchema, RoleSchema, USER_STATUSES } from './vocabulary.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Status = Type.Union(USER_STATUSES.map((s) => Type.Literal(s)));

/** No result: the reply is `{v: 1, ok: true}`. */
export const Done = Type.Undefined();

/** The session-wrapped user key and the ids it is bound to. */
export const SessionKeyMaterial = Type.Object({ sessionId: Id, userId: Id, wrappedKey: B64 });
export type SessionKeyMaterial = Static<typeof SessionKeyMaterial>;

const WrappedDataKey = Type.Object({ keyId: Id, wrapped: B64 });

export const OrgStatus = Type.Object({
  initialised: Type.Boolean(),
  trustRoot: Nullable(Type.String()),
  /** The vault's reply key (Ed25519, base64url), for `coffer init` to certify. */
  replyKey: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' })),
});
export type OrgStatus = Static<typeof OrgStatus>;

export const SigninLookup = Type.Object({
  found: Type.Boolean(),
  /** A single-use challenge for the password proof (given for unknown emails too). */
  challenge: Type.Optional(Type.Object({ id: Id, nonce: Type.String() })),
  /** Set while the email is locked out; nothing else is returned then. */
  locked: Type.Optional(Instant),
  userId: Type.Optional(Id),
  email: Type.Optional(Type.String()),
  role: Type.Optional(RoleSchema),
  status: Type.Optional(Status),
  verifier: Type.Optional(Nullable(Type.String())),
  wrappedPrivateKey: Type.Optional(Nullable(B64)),
  keyVersion: Type.Optional(Nullable(Type.Integer())),
  /** The enrolled TOTP secret, sealed to the user's key (totpBinding); null when none. */
  totp: Type.Optional(Nullable(B64)),
});
export type SigninLookup = Static<typeof SigninLookup>;

export const SessionWindow = Type.Object({ idleExpiresAt: Instant, absoluteExpiresAt: Instant });

export const Whoami = Type.Object({
  id: Id,
  email: Type.String(),
  role: RoleSchema,
  status: Status,
  totp: Type.Boolean(),
  mfa: Type.Boolean(),
});

export const RecordPage = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Id,
      type: RecordTypeSchema,
      hint: Nullable(Type.String()),
      /** 'client': sealed by the submitter, so the hint is the client's claim, not checked by anyone. */
      hintSource: Type.Union([Type.Literal('ingest'), Type.Literal('client')]),
      keyId: Id,
      submittedAt: Instant,
    }),
  ),
  next: Nullable(Id),
});

/**
 * `contextEnc`: base64 of the record context's enc for a version-2 blob, null for version 1 — and,
 * in an export page, null for an X-Wing context's record, whose enc the page's `contexts` carries
 * once (1,120 bytes on every record would take a page of 1,000 past the bus's message limit).
 */
const SealedRecord = Type.Object({
  id: Id,
  type: RecordTypeSchema,
  dataKeyId: Id,
  sealed: B64,
  contextEnc: Nullable(B64),
});

/** What the vault returns to open one record: the sealed value and this user's keys for it. */
export const SealedForUser = Type.Object({ record: SealedRecord, wrappedDataKey: B64, session: SessionKeyMaterial });
export type SealedForUser = Static<typeof SealedForUser>;

export const ExportBegun = Type.Object({ exportId: Id, session: SessionKeyMaterial });

/** `coffer reseal` (issue 15, item 3): a run, new or resumed, and how many records it has left. */
/** The org's configuration as now stored. */
export const OrgConfigStored = Type.Object({ suite: Type.String(), version: Type.Integer(), changed: Type.Boolean() });
export const ResealBegun = Type.Object({ runId: Id, remaining: Type.Integer() });
/** The next records of a run, the caller's copies of their keys, and the key to seal them to. */
export const ResealMaterial = Type.Object({
  toKey: Type.Object({ bundle: DataKeyBundleJson, signature: Type.String() }),
  records: Type.Array(SealedRecord),
  wrappedDataKeys: Type.Record(Type.String(), B64),
  session: SessionKeyMaterial,
  /** The caller's copy of the org key, to sign the batch it stores (optional: older vaults). */
  orgKeyId: Type.Optional(Id),
  orgKey: Type.Optional(B64),
});
export const ResealStored = Type.Object({
  moved: Type.Integer(),
  remaining: Type.Integer(),
  done: Type.Boolean(),
  destroyedKeys: Type.Integer(),
});

export const ExportPage = Type.Object({
  records: Type.Array(Type.Object({ ...SealedRecord.properties, submittedAt: Instant })),
  /** The caller's wrapped copy of each data key the page's records use, by key id. */
  wrappedDataKeys: Type.Record(Type.String(), B64),
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
  /** The caller's wrapped copy of each data key the page's records use, by key id. */
  wrappedDataKeys: Type.Record(Type.String(), B64),
});

/** `export.block`: the page itself is the reply frame's attachment (reply-frame.ts), not base64. */
export const ExportBlock = Type.Object({
  done: Type.Boolean(),
  /** The caller's wrapped copy of each data key the page's records use, by key id. */
  wrappedDataKeys: Type.Record(Type.String(), B64),
});

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

/** A new invite (users.reset, users.reinvite). */
export const InviteIssued = Type.Object({ id: Id, expiresAt: Instant });
/** users.enrol-code's answer: when the code stops working. */
export const EnrolCodeIssued = Type.Object({ expiresAt: Instant });
/**
 * users.invite's answer: the new user, and the caller's org key copy and session material, so the
 * admin plane can sign the invitation (role binding, issue 9 item 1).
 */
export const InviteMade = Type.Object({
  id: Id,
  expiresAt: Instant,
  orgKeyId: Id,
  orgKey: B64,
  session: SessionKeyMaterial,
});
export type InviteMade = Static<typeof InviteMade>;
export const InviteLookup = Type.Object({
  userId: Id,
  email: Type.String(),
  role: RoleSchema,
  keyVersion: Type.Integer(),
  /**
   * issue 15: the org's suite, which the invitee's key is made in (as in keys.material, checked by
   * the admin plane against the trust root); absent from an older vault, whose orgs are X25519.
   */
  orgKeyId: Type.Optional(Id),
  config: Type.Optional(Nullable(Type.Object({ config: OrgConfigJson, signature: Type.String() }))),
  newestKey: Type.Optional(Nullable(Type.Object({ bundle: DataKeyBundleJson, signature: Type.String() }))),
  /**
   * Every data key's bundle as signed: the admin plane (or the CLI) verifies each and takes the
   * newest by its signed window (a `not_after` column is the database's word). Absent from an
   * older vault, which sends only newestKey.
   */
  dataKeyBundles: Type.Optional(Type.Array(Type.Object({ bundle: DataKeyBundleJson, signature: Type.String() }))),
});
export const InviteAccepted = Type.Object({ userId: Id, keyVersion: Type.Integer() });

/** What confirming a user needs (users.confirm-material). */
/**
 * The newest revocation list as the vault stores it (issue 15, item 2), signed by the org key; the
 * admin plane verifies it and its counter before wrapping anything. Absent from an older vault.
 */
export const SignedRevocations = Type.Object(
  { list: Type.Unknown(), signature: Type.String({ maxLength: 200 }) },
  { additionalProperties: false },
);
export type SignedRevocations = Static<typeof SignedRevocations>;

/** A remembered list stored again after a backup restore, and how many people and keys it re-applied. */
export const RevocationsRestored = Type.Object({ counter: Type.Integer(), applied: Type.Integer() });

export const ConfirmMaterial = Type.Object({
  user: Type.Object({
    id: Id,
    email: Type.String(),
    role: RoleSchema,
    status: Status,
    publicKey: Type.String(),
    /** The invitation signed when this user was invited (issue 9, item 1); null if none was stored. */
    invitation: Nullable(Type.Object({ statement: Type.Unknown(), signature: Type.String() })),
  }),
  orgKeyId: Id,
  /** The caller's wrapped copy of the org signing key. */
  orgKey: B64,
  /** The caller's copies of every data key that still exists (ended windows too: their records stay readable). */
  dataKeys: Type.Array(WrappedDataKey),
  session: SessionKeyMaterial,
  revocations: Type.Optional(Nullable(SignedRevocations)),
});
export type ConfirmMaterial = Static<typeof ConfirmMaterial>;

export const Confirmed = Type.Object({ wrappedKeys: Type.Integer() });

export const KeyList = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Id,
      publicKey: Type.String(),
      notBefore: Instant,
      notAfter: Instant,
      current: Type.Boolean(),
      records: Type.Integer(),
      wrappedCopies: Type.Integer(),
    }),
  ),
});

/** What making the next data keys needs (keys.material). */
export const KeysMaterial = Type.Object({
  orgKeyId: Id,
  orgKey: B64,
  recovery: Type.Object({ id: Id, publicKey: Type.String(), certificate: Nullable(Type.String()) }),
  /** Active viewers and key-admins, with the certificate each must show. */
  recipients: Type.Array(
    Type.Object({ id: Id, role: RoleSchema, publicKey: Type.String(), certificateSignature: Nullable(Type.String()) }),
  ),
  /** End of the last data key's window, or null before any. */
  lastNotAfter: Nullable(Instant),
  /**
   * The org's signed configuration (its suite), null for an org made before suites; absent from a
   * vault made before suites (a rolling upgrade), which can only hold X25519 orgs.
   */
  config: Type.Optional(Nullable(Type.Object({ config: OrgConfigJson, signature: Type.String() }))),
  /** The newest data key as signed: the suite floor when the configuration is missing. */
  newestKey: Type.Optional(Nullable(Type.Object({ bundle: DataKeyBundleJson, signature: Type.String() }))),
  /**
   * Every data key's bundle as signed: the admin plane (or the CLI) verifies each and takes the
   * newest by its signed window (a `not_after` column is the database's word). Absent from an
   * older vault, which sends only newestKey.
   */
  dataKeyBundles: Type.Optional(Type.Array(Type.Object({ bundle: DataKeyBundleJson, signature: Type.String() }))),
  session: SessionKeyMaterial,
  revocations: Type.Optional(Nullable(SignedRevocations)),
});
export type KeysMaterial = Static<typeof KeysMaterial>;

export const KeysStored = Type.Object({ stored: Type.Integer() });

/** What break-glass recovery needs (recovery.begin). */
export const RecoveryMaterial = Type.Object({
  challengeId: Id,
  /** 32 random bytes sealed to the recovery key (recoveryChallengeBinding). */
  challenge: B64,
  trustRoot: Type.String(),
  recovery: Type.Object({ id: Id, publicKey: Type.String(), threshold: Type.Integer({ minimum: 2 }) }),
  orgKeyId: Id,
  orgKey: B64,
  dataKeys: Type.Array(WrappedDataKey),
  /** issue 15: the org's suite, for the recovered key-admin's key (as in keys.material); absent from an older vault. */
  config: Type.Optional(Nullable(Type.Object({ config: OrgConfigJson, signature: Type.String() }))),
  newestKey: Type.Optional(Nullable(Type.Object({ bundle: DataKeyBundleJson, signature: Type.String() }))),
  /**
   * Every data key's bundle as signed: the admin plane (or the CLI) verifies each and takes the
   * newest by its signed window (a `not_after` column is the database's word). Absent from an
   * older vault, which sends only newestKey.
   */
  dataKeyBundles: Type.Optional(Type.Array(Type.Object({ bundle: DataKeyBundleJson, signature: Type.String() }))),
});
export type RecoveryMaterial = Static<typeof RecoveryMaterial>;

export const RecoveryEnrolled = Type.Object({
  userId: Id,
  /** issue 16 item 4c: the recovered keys reach the new key-admin only then (unset: now). */
  heldUntil: Type.Optional(Instant),
});

export const TotpMaterial = Type.Object({
  email: Type.String(),
  /** The pending secret, sealed to the user's key; null when none is on offer. */
  pending: Nullable(B64),
  enrolled: Type.Boolean(),
  session: SessionKeyMaterial,
});

/** The console's list of people (users.list). */
export const PeopleList = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Id,
      email: Type.String(),
      role: RoleSchema,
      status: Status,
      mfa: Type.Boolean(),
      publicKey: Nullable(Type.String()),
      createdAt: Instant,
      confirmedAt: Nullable(Instant),
      lastSigninAt: Nullable(Instant),
      inviteExpiresAt: Nullable(Instant),
    }),
  ),
});

/** Records metadata for the console's search (records.search). */
export const RecordSearchPage = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Id,
      type: RecordTypeSchema,
      hint: Nullable(Type.String()),
      /**
       * As in records.list: 'client' when the submitter sealed it, so the hint is their claim.
       * Optional because a vault before it omits it (the console then marks nothing).
       */
      hintSource: Type.Optional(Type.Union([Type.Literal('ingest'), Type.Literal('client')])),
      keyId: Id,
      submittedAt: Instant,
    }),
  ),
  next: Nullable(Id),
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

/** The caller's own live sessions (me.sessions). */
export const OwnSessions = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Id,
      createdAt: Instant,
      lastSeenAt: Instant,
      idleExpiresAt: Instant,
      absoluteExpiresAt: Instant,
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
      createdAt: Instant,
      lastSeenAt: Instant,
      idleExpiresAt: Instant,
      absoluteExpiresAt: Instant,
      mfa: Type.Union([Type.Literal('totp'), Type.Literal('none')]),
      current: Type.Boolean(),
      ip: Nullable(Type.String()),
      userAgent: Nullable(Type.String()),
    }),
  ),
});

export const SessionsEnded = Type.Object({ ended: Type.Integer() });

export const Bootstrapped = Type.Object({ trustRoot: Type.String() });

/** Decoys stored (issue 16, item 3). */
export const DecoysPlanted = Type.Object({ planted: Type.Integer({ minimum: 0 }) });

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

/** Break-glass recoveries waiting for their delay (issue 16, item 4c). */
export const RecoveryHolds = Type.Object({
  items: Type.Array(Type.Object({ userId: Id, email: Type.String(), heldAt: Instant, releaseAt: Instant })),
});

export { DataKeyBundleJson };
