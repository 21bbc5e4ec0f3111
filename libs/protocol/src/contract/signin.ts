/** Contract rows: the org's status and bootstrap, signing in and out, who a session is. */
import { type Static, Type } from '@sinclair/typebox';
import { BootstrapRequest } from '../admin-messages.ts';
import {
  B64,
  Email,
  Hex64,
  Id,
  Instant,
  Origin,
  RoleSchema,
  SignatureB64url,
  TotpStep,
  Verifier,
  Versioned,
} from '../vocabulary.ts';
import { Done, entry, Nullable, openRow, ownRow, SessionOnly, Status } from './rows.ts';

export const OrgStatus = Type.Object({
  initialised: Type.Boolean(),
  trustRoot: Nullable(Type.String()),
  /** The vault's reply key (Ed25519, base64url), for `coffer init` to certify. */
  replyKey: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' })),
});
export type OrgStatus = Static<typeof OrgStatus>;

export const Bootstrapped = Type.Object({ trustRoot: Type.String() });

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

export const SigninContract = {
  /** Whether `coffer init` has run, and the trust root it pinned. */
  status: openRow(Versioned({}), OrgStatus),
  /** Everything `coffer init` made, verified against its own trust root and stored once. */
  bootstrap: openRow(BootstrapRequest, Bootstrapped),

  /**
   * Sign-in, step 1: count the attempt against the email (known or not) and, unless it is locked,
   * return what the admin plane needs to check the password, or `found: false`.
   */
  'signin.begin': openRow(Versioned({ email: Email, origin: Origin }), SigninLookup),
  /** A failed sign-in: audited (the attempt was already counted). */
  'signin.fail': openRow(
    Versioned({
      email: Email,
      userId: Type.Union([Id, Type.Null()]),
      origin: Origin,
      /** Set when the password was right and the TOTP code missing, wrong or used before. */
      reason: Type.Optional(Type.Literal('totp')),
    }),
    Done,
  ),
  /**
   * A successful sign-in: the password proof is checked, then the session stored and audited.
   * The proof, not a session, is what this call shows; the handler checks it.
   */
  'signin.complete': openRow(
    Versioned({
      userId: Id,
      challengeId: Id,
      /** Signature by the password's key over the challenge, the user and this session's hash. */
      proof: SignatureB64url,
      session: Hex64,
      sessionId: Id,
      wrappedKey: B64,
      origin: Origin,
      /** The TOTP step the admin plane accepted; the vault takes it only if later than the last. */
      totpStep: Type.Optional(TotpStep),
      /** Present when the password was re-enrolled with today's parameters at this sign-in. */
      rehash: Type.Optional(
        Type.Object({ verifier: Verifier, wrappedPrivateKey: B64 }, { additionalProperties: false }),
      ),
    }),
    SessionWindow,
  ),
  signout: ownRow(Versioned({ session: Hex64, origin: Origin }), Done),
  /** Who this session belongs to (and it keeps the session alive). */
  whoami: ownRow(SessionOnly, Whoami),
  /** A request the admin plane refused (e.g. no CSRF header): audited against a live session only. */
  denied: entry({
    request: Versioned({ session: Hex64, action: Id, reason: Type.String({ maxLength: 200 }), origin: Origin }),
    reply: Done,
    policy: { session: 'optional' },
  }),
} as const;
