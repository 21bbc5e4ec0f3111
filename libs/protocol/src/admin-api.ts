/**
 * The admin plane's requests on `vault.admin.<operation>`. Every call made for a signed-in person
 * carries `session`: hex SHA-256 of their session token. The vault checks it (expiry, user
 * status, role) on every call; the token itself never reaches the vault.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { RECORD_TYPES } from './values.ts';

const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
const Id = Type.String({ minLength: 1, maxLength: 128 });
const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
const B64 = Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: 16384 });
// PostgreSQL text cannot hold NUL: refuse it here as a bad request, not later as an audit outage.
const NO_NUL = '^[^\\u0000]*$';
/**
 * Free text that lands in the audit log (issue 9, item 14): no control characters (line breaks
 * included), no bidi overrides, isolates or marks, so a displayed audit line cannot be spoofed.
 */
export const FREE_TEXT_PATTERN =
  '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069]*$';
const Email = Type.String({ minLength: 3, maxLength: 254, pattern: FREE_TEXT_PATTERN });
const Origin = Type.String({ maxLength: 200, pattern: NO_NUL });
const Reason = Type.String({ minLength: 3, maxLength: 500, pattern: FREE_TEXT_PATTERN });
const RecordTypeSchema = Type.Union(RECORD_TYPES.map((t) => Type.Literal(t)));
const Instant = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$' });
/** A TOTP time step: 30-second periods since the epoch. */
const TotpStep = Type.Integer({ minimum: 0, maximum: 2 ** 40 });

const strict = <T extends Record<string, TSchema>>(props: T) =>
  Type.Object({ v: Type.Literal(1), ...props }, { additionalProperties: false });

export const AdminApi = {
  /**
   * Sign-in, step 1: count the attempt against the email (known or not) and, unless it is locked,
   * return what the admin plane needs to check the password, or `found: false`.
   */
  'signin.begin': strict({ email: Email, origin: Origin }),
  /** A failed sign-in: audited (the attempt was already counted). */
  'signin.fail': strict({
    email: Email,
    userId: Type.Union([Id, Type.Null()]),
    origin: Origin,
    /** Set when the password was right and the TOTP code missing, wrong or used before. */
    reason: Type.Optional(Type.Literal('totp')),
  }),
  /** A successful sign-in: store the session (hash and session-wrapped key), audit it. */
  'signin.complete': strict({
    userId: Id,
    /** Signature by the password's key over the challenge, the user and this session's hash. */
    challengeId: Id,
    proof: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
    session: Hex64,
    sessionId: Id,
    wrappedKey: B64,
    origin: Origin,
    /**
     * The TOTP time step whose code the admin plane accepted; required when the user has TOTP.
     * The vault takes it only if it is later than the last accepted one (each code works once).
     */
    totpStep: Type.Optional(TotpStep),
    /** Present when the password was re-enrolled with today's parameters at this sign-in. */
    rehash: Type.Optional(
      Type.Object(
        { verifier: Type.String({ maxLength: 256 }), wrappedPrivateKey: B64 },
        { additionalProperties: false },
      ),
    ),
  }),
  signout: strict({ session: Hex64, origin: Origin }),
  /** Who this session belongs to (and it keeps the session alive). */
  whoami: strict({ session: Hex64 }),
  'records.list': strict({
    session: Hex64,
    type: Type.Optional(RecordTypeSchema),
    before: Type.Optional(Uuid),
    limit: Type.Integer({ minimum: 1, maximum: 500 }),
  }),
  /** Audit first, then return the sealed record and this user's keys to open it. */
  'records.reveal': strict({ session: Hex64, recordId: Id, reason: Reason, origin: Origin }),
  /** The admin plane could not open what it was given: audit the failure. */
  'records.reveal-failed': strict({ session: Hex64, recordId: Id, error: Id, origin: Origin }),
  'export.begin': strict({
    session: Hex64,
    reason: Reason,
    type: Type.Optional(RecordTypeSchema),
    from: Type.Optional(Instant),
    to: Type.Optional(Instant),
    origin: Origin,
  }),
  /** One page of an export this session began: the vault applies the filter audited at the start. */
  'export.page': strict({
    session: Hex64,
    exportId: Id,
    after: Type.Optional(Uuid),
    limit: Type.Integer({ minimum: 1, maximum: 2000 }),
  }),
  'export.finish': strict({
    session: Hex64,
    exportId: Id,
    count: Type.Integer({ minimum: 0 }),
    outcome: Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('aborted')]),
    origin: Origin,
  }),
  'audit.list': strict({
    session: Hex64,
    after: Type.Optional(Type.Integer({ minimum: 0 })),
    limit: Type.Integer({ minimum: 1, maximum: 500 }),
  }),
  'audit.verify': strict({ session: Hex64 }),
  /** A key-admin invites a person: the user row and a single-use invite (token hash only). */
  'users.invite': strict({
    session: Hex64,
    email: Email,
    role: Type.Union([Type.Literal('viewer'), Type.Literal('key-admin'), Type.Literal('auditor')]),
    inviteHash: Hex64,
    origin: Origin,
  }),
  /**
   * The invitation the key-admin signed with the org key (issue 9, item 1), stored with the
   * invited user: at confirmation the admin plane certifies only for its role.
   */
  'users.invitation': strict({
    session: Hex64,
    userId: Id,
    invitation: Type.Object(
      {
        v: Type.Literal(1),
        inviteId: Id,
        userId: Id,
        email: Email,
        role: Type.Union([Type.Literal('viewer'), Type.Literal('key-admin'), Type.Literal('auditor')]),
        expiresAt: Instant,
      },
      { additionalProperties: false },
    ),
    signature: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
    origin: Origin,
  }),
  /** Who an unused, unexpired invite is for. */
  'invites.lookup': strict({ inviteHash: Hex64 }),
  /** The invitee set a password; the admin plane made their keys. Uses the invite up. */
  'invites.accept': strict({
    inviteHash: Hex64,
    keyVersion: Type.Integer({ minimum: 1 }),
    verifier: Type.String({ maxLength: 256 }),
    publicKey: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
    wrappedPrivateKey: B64,
    origin: Origin,
  }),
  /** What a key-admin's session needs to confirm a user: their key, and the caller's copies. */
  'users.confirm-material': strict({ session: Hex64, userId: Id }),
  /** Store a confirmed user's certificate and the keys wrapped to them. */
  'users.confirm': strict({
    session: Hex64,
    userId: Id,
    certificateSignature: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
    dataKeys: Type.Array(Type.Object({ keyId: Id, wrapped: B64 }, { additionalProperties: false }), { maxItems: 512 }),
    orgKey: Type.Optional(B64),
    origin: Origin,
  }),
  /** Revoke: wrapped keys and sessions gone; keys made later never include the user. */
  'users.revoke': strict({ session: Hex64, userId: Id, origin: Origin }),
  /** A forgotten password: new keys are needed, so the user is invited (and confirmed) again. */
  'users.reset': strict({ session: Hex64, userId: Id, inviteHash: Hex64, origin: Origin }),
  /** Change one's own password: the same key, re-wrapped under the new KEK; other sessions end. */
  'me.password': strict({
    session: Hex64,
    /** Proof of the current password over a fresh challenge, the user and 'password-change'. */
    challengeId: Id,
    proof: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
    verifier: Type.String({ maxLength: 256 }),
    wrappedPrivateKey: B64,
    origin: Origin,
  }),
  'keys.list': strict({ session: Hex64 }),
  /** What a key-admin's session needs to make the next data keys. */
  'keys.material': strict({ session: Hex64 }),
  'keys.store': strict({
    session: Hex64,
    dataKeys: Type.Array(
      Type.Object(
        {
          bundle: Type.Object(
            { id: Id, publicKey: Type.String(), notBefore: Type.String(), notAfter: Type.String() },
            { additionalProperties: false },
          ),
          signature: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
          copies: Type.Array(
            Type.Object(
              {
                recipientKind: Type.Union([Type.Literal('user'), Type.Literal('recovery')]),
                recipientId: Id,
                wrapped: B64,
              },
              { additionalProperties: false },
            ),
            { maxItems: 512 },
          ),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 64 },
    ),
    origin: Origin,
  }),
  /** Break-glass, step 1: a challenge sealed to the recovery key, and the recovery key's copies. */
  'recovery.begin': strict({ origin: Origin }),
  /** Break-glass, step 2: the opened challenge and a new key-admin made with the recovered keys. */
  'recovery.enrol': strict({
    challengeId: Id,
    answer: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
    admin: Type.Object(
      {
        id: Id,
        email: Email,
        passwordVerifier: Type.String({ maxLength: 256 }),
        keyVersion: Type.Integer({ minimum: 1 }),
        publicKey: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
        wrappedPrivateKey: B64,
        certificateSignature: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
      },
      { additionalProperties: false },
    ),
    orgKey: B64,
    dataKeys: Type.Array(Type.Object({ keyId: Id, wrapped: B64 }, { additionalProperties: false }), { maxItems: 512 }),
    origin: Origin,
  }),
  /** What TOTP enrolment needs: the caller's email, session key material and pending secret. */
  'totp.material': strict({ session: Hex64 }),
  /** Offer a new TOTP secret (sealed to the caller's key) for enrolment; replaces any pending one. */
  'totp.pending': strict({ session: Hex64, sealed: B64 }),
  /** A code for the pending secret matched at `step`: it becomes the caller's TOTP. Audited. */
  'totp.enrol': strict({ session: Hex64, pending: B64, step: TotpStep, origin: Origin }),
  /** A code for the pending secret did not match: audited as a failed enrolment. */
  'totp.enrol-failed': strict({ session: Hex64, error: Id, origin: Origin }),
  /** A request the admin plane refused (e.g. no CSRF header): audited against the session. */
  denied: strict({ session: Hex64, action: Id, reason: Type.String({ maxLength: 200 }), origin: Origin }),
} as const;

export type AdminOperation = keyof typeof AdminApi;
export type AdminRequest<Op extends AdminOperation> = Static<(typeof AdminApi)[Op]>;

/** What the vault returns to open one record: the sealed value and this user's keys for it. */
export interface SealedForUser {
  /** `contextEnc`: base64 of the record context's enc for a version-2 blob, null for version 1. */
  readonly record: { id: string; type: string; dataKeyId: string; sealed: string; contextEnc: string | null };
  readonly wrappedDataKey: string;
  readonly session: SessionKeyMaterial;
}

/** The session-wrapped user key and the ids it is bound to. */
export interface SessionKeyMaterial {
  readonly sessionId: string;
  readonly userId: string;
  readonly wrappedKey: string;
}

/** What confirming a user needs (users.confirm-material). */
export interface ConfirmMaterial {
  readonly user: {
    id: string;
    email: string;
    role: string;
    status: string;
    publicKey: string;
    /** The invitation signed when this user was invited (issue 9, item 1); null if none was stored. */
    invitation: { statement: unknown; signature: string } | null;
  };
  readonly orgKeyId: string;
  /** The caller's wrapped copy of the org signing key. */
  readonly orgKey: string;
  /** The caller's wrapped copies of every data key that still exists (ended windows too: their records stay readable). */
  readonly dataKeys: { keyId: string; wrapped: string }[];
  readonly session: SessionKeyMaterial;
}

/** users.invite's answer: the new user, and the caller's org key copy to sign the invitation with. */
export interface InviteMade {
  readonly id: string;
  readonly expiresAt: string;
  readonly orgKeyId: string;
  readonly orgKey: string;
  readonly session: SessionKeyMaterial;
}

/** What break-glass recovery needs (recovery.begin). */
export interface RecoveryMaterial {
  readonly challengeId: string;
  /** 32 random bytes sealed to the recovery key (recoveryChallengeBinding). */
  readonly challenge: string;
  readonly trustRoot: string;
  readonly recovery: { id: string; publicKey: string; threshold: number };
  readonly orgKeyId: string;
  readonly orgKey: string;
  readonly dataKeys: { keyId: string; wrapped: string }[];
}

/** What making the next data keys needs (keys.material). */
export interface KeysMaterial {
  readonly orgKeyId: string;
  readonly orgKey: string;
  readonly recovery: { id: string; publicKey: string; certificate: string | null };
  /** Active viewers and key-admins, with the certificate each must show. */
  readonly recipients: { id: string; role: string; publicKey: string; certificateSignature: string | null }[];
  /** End of the last data key's window, or null before any. */
  readonly lastNotAfter: string | null;
  readonly session: SessionKeyMaterial;
}

export interface SigninLookup {
  readonly found: boolean;
  /** A single-use challenge for the password proof (given for unknown emails too). */
  readonly challenge?: { id: string; nonce: string };
  /** Set while the email is locked out; nothing else is returned then. */
  readonly locked?: string;
  readonly userId?: string;
  readonly email?: string;
  readonly role?: string;
  readonly status?: string;
  readonly verifier?: string | null;
  readonly wrappedPrivateKey?: string | null;
  readonly keyVersion?: number | null;
  /** The enrolled TOTP secret, sealed to the user's key (totpBinding); null when none. */
  readonly totp?: string | null;
}
