/** Contract rows: people — invitation, acceptance, confirmation, revocation, reset, passwords. */
import { type Static, Type } from '@sinclair/typebox';
import {
  B64,
  Closed,
  Email,
  Hex64,
  Id,
  Instant,
  Origin,
  RecipientKeyB64url,
  RoleSchema,
  SignatureB64url,
  Uuid,
  Verifier,
  Versioned,
} from '../vocabulary.ts';
import {
  Copy,
  Done,
  entry,
  keyAdmin,
  keyAdminOn,
  Nullable,
  openRow,
  ownRow,
  SessionKeyMaterial,
  SessionOnly,
  SignedRevocations,
  Status,
  SuiteFloor,
  WrappedDataKey,
} from './rows.ts';

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
  ...SuiteFloor,
});
export const InviteAccepted = Type.Object({ userId: Id, keyVersion: Type.Integer() });

/** What confirming a user needs (users.confirm-material). */
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

export const UsersContract = {
  /** Key-admins: every user with role, status, MFA, last sign-in and the open invite's expiry. */
  'users.list': entry({ request: SessionOnly, reply: PeopleList, policy: keyAdmin('users.list') }),
  /** Key-admins: a new invite for a user still in `invited` (the old one, used or not, is dropped). */
  'users.reinvite': entry({
    request: Versioned({ session: Hex64, userId: Uuid, inviteHash: Hex64, origin: Origin }),
    reply: InviteIssued,
    policy: keyAdminOn('user.reinvite', 'userId'),
  }),
  /** A key-admin invites a person: the user row and a single-use invite (token hash only). */
  'users.invite': entry({
    request: Versioned({ session: Hex64, email: Email, role: RoleSchema, inviteHash: Hex64, origin: Origin }),
    reply: InviteMade,
    policy: keyAdminOn('user.invite', 'email'),
  }),
  /**
   * The invitation the key-admin signed with the org key (issue 9, item 1), stored with the
   * invited user: at confirmation the admin plane certifies only for its role.
   */
  'users.invitation': entry({
    request: Versioned({
      session: Hex64,
      userId: Id,
      invitation: Closed({
        v: Type.Literal(1),
        inviteId: Id,
        userId: Id,
        email: Email,
        role: RoleSchema,
        expiresAt: Instant,
      }),
      signature: SignatureB64url,
      origin: Origin,
    }),
    reply: Done,
    policy: keyAdminOn('user.invite', 'userId'),
  }),
  /** Who an unused, unexpired invite is for. */
  'invites.lookup': openRow(Versioned({ inviteHash: Hex64 }), InviteLookup),
  /** The invitee set a password; the admin plane made their keys. Uses the invite up. */
  'invites.accept': openRow(
    Versioned({
      inviteHash: Hex64,
      keyVersion: Type.Integer({ minimum: 1 }),
      verifier: Verifier,
      publicKey: RecipientKeyB64url,
      wrappedPrivateKey: B64,
      origin: Origin,
    }),
    InviteAccepted,
  ),
  /** What a key-admin's session needs to confirm a user: their key, and the caller's copies. */
  'users.confirm-material': entry({
    request: Versioned({ session: Hex64, userId: Id }),
    reply: ConfirmMaterial,
    policy: keyAdminOn('user.confirm', 'userId'),
  }),
  /** Store a confirmed user's certificate and the keys wrapped to them. */
  'users.confirm': entry({
    request: Versioned({
      session: Hex64,
      userId: Id,
      certificateSignature: SignatureB64url,
      dataKeys: Type.Array(Copy, { maxItems: 512 }),
      orgKey: Type.Optional(B64),
      origin: Origin,
    }),
    reply: Confirmed,
    policy: keyAdminOn('user.confirm', 'userId'),
  }),
  /**
   * Revoke: wrapped keys and sessions gone; keys made later never include the user; data keys of
   * windows not yet begun are destroyed (issue 15, item 2). `revocations`: the next signed list,
   * naming the user, stored in the same transaction.
   */
  'users.revoke': entry({
    request: Versioned({ session: Hex64, userId: Id, origin: Origin, revocations: Type.Optional(SignedRevocations) }),
    reply: Done,
    policy: keyAdminOn('user.revoke', 'userId'),
  }),
  /** A forgotten password: new keys are needed, so the user is invited (and confirmed) again. */
  'users.reset': entry({
    request: Versioned({
      session: Hex64,
      userId: Id,
      inviteHash: Hex64,
      origin: Origin,
      revocations: Type.Optional(SignedRevocations),
    }),
    reply: InviteIssued,
    policy: keyAdminOn('user.reset', 'userId'),
  }),
  /** Key-admins: a one-time code (its SHA-256 only) that lets another confirmed user enrol TOTP. */
  'users.enrol-code': entry({
    request: Versioned({ session: Hex64, userId: Id, codeHash: Hex64, origin: Origin }),
    reply: EnrolCodeIssued,
    policy: keyAdminOn('user.enrol-code', 'userId'),
  }),
  // issue 16 item 4b: a second key-admin compared the fingerprint of a key-admin being confirmed.
  'users.cosign': entry({
    request: Versioned({ session: Hex64, userId: Uuid, publicKey: RecipientKeyB64url, origin: Origin }),
    reply: Done,
    policy: keyAdminOn('user.cosign', 'userId'),
  }),
  /** Change one's own password: the same key, re-wrapped under the new KEK; other sessions end. */
  'me.password': ownRow(
    Versioned({
      session: Hex64,
      /** Proof of the current password over a fresh challenge, the user and 'password-change'. */
      challengeId: Id,
      proof: SignatureB64url,
      verifier: Verifier,
      wrappedPrivateKey: B64,
      origin: Origin,
    }),
    Done,
  ),
} as const;
