/**
 * The passkey rows of the admin ↔ vault contract (issue 16 item 1), spread into AdminContract.
 * The vault verifies every WebAuthn registration and assertion itself, against its own configured
 * origin and RP ID and the stored public key; the admin plane only turns a PRF output into the
 * KEK that wraps (or unwraps) the user key. WebAuthn responses travel as their JSON text, bounded.
 */
import { Type } from '@sinclair/typebox';
import { B64, FREE_TEXT_PATTERN, Hex64, Id, Instant, Origin, SignatureB64url, Versioned } from '../vocabulary.ts';
import { Done, Nullable, none, signedIn } from './rows.ts';

/** A WebAuthn credential id: base64url (the specification allows up to 1023 bytes). */
export const CredentialId = Type.String({ pattern: '^[A-Za-z0-9_-]{16,1400}$' });
/** A WebAuthn response (RegistrationResponseJSON or AuthenticationResponseJSON) as JSON text. */
const WebAuthnJson = Type.String({ minLength: 2, maxLength: 12_000 });
const Challenge = Type.Object({ id: Id, nonce: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }) });

export const PasskeyContract = {
  /** Begin registering a passkey: creation options (their challenge) and one for the PRF check. */
  'passkeys.register-options': {
    request: Versioned({ session: Hex64 }),
    reply: Type.Object({
      creationChallengeId: Id,
      /** PublicKeyCredentialCreationOptionsJSON made by the vault, as JSON text. */
      options: WebAuthnJson,
      assertion: Challenge,
      rpId: Type.String({ minLength: 1, maxLength: 253 }),
    }),
    policy: signedIn,
  },
  /**
   * Store a passkey: the password proof covers the whole request (as a password change does), the
   * vault checks the registration and an assertion by the new credential over the second challenge.
   */
  'passkeys.register': {
    request: Versioned({
      session: Hex64,
      challengeId: Id,
      proof: SignatureB64url,
      creationChallengeId: Id,
      assertionChallengeId: Id,
      registration: WebAuthnJson,
      assertion: WebAuthnJson,
      name: Type.String({ minLength: 1, maxLength: 64, pattern: FREE_TEXT_PATTERN }),
      /** The user key under the PRF-derived KEK; null when the authenticator has no PRF. */
      wrappedKey: Nullable(B64),
      keyVersion: Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 }),
      origin: Origin,
    }),
    reply: Type.Object({ credentialId: CredentialId }),
    policy: signedIn,
  },
  'passkeys.list': {
    request: Versioned({ session: Hex64 }),
    reply: Type.Object({
      items: Type.Array(
        Type.Object({
          id: CredentialId,
          name: Type.String(),
          createdAt: Instant,
          lastUsedAt: Nullable(Instant),
          unlock: Type.Boolean(),
        }),
      ),
    }),
    policy: signedIn,
  },
  /** Remove one of one's own passkeys, and with it its wrap of the user key. Audited. */
  'passkeys.remove': {
    request: Versioned({ session: Hex64, credentialId: CredentialId, origin: Origin }),
    reply: Done,
    policy: signedIn,
  },
  /** A single-use nonce for a passkey sign-in; the admin plane binds it to its new session. */
  'passkey.signin-options': {
    request: Versioned({}),
    reply: Type.Object({ challenge: Challenge, rpId: Type.String({ minLength: 1, maxLength: 253 }) }),
    policy: none,
  },
  /** Which user a credential belongs to and their PRF wrap of the user key, if any. */
  'passkey.signin-begin': {
    request: Versioned({ credentialId: CredentialId }),
    reply: Type.Object({
      found: Type.Boolean(),
      userId: Type.Optional(Id),
      email: Type.Optional(Type.String()),
      role: Type.Optional(Type.String()),
      wrappedKey: Type.Optional(Nullable(B64)),
      keyVersion: Type.Optional(Nullable(Type.Integer())),
    }),
    policy: none,
  },
  /**
   * Open the session: the vault checks the assertion against the stored public key, its origin and
   * RP ID, user verification, the counter, and that its challenge is SHA-256 of the nonce and
   * exactly this `session`. A refusal is audited as a failed sign-in.
   */
  'passkey.signin-complete': {
    request: Versioned({
      credentialId: CredentialId,
      challengeId: Id,
      assertion: WebAuthnJson,
      session: Hex64,
      sessionId: Id,
      wrappedKey: B64,
      origin: Origin,
    }),
    reply: Type.Object({ idleExpiresAt: Instant, absoluteExpiresAt: Instant }),
    policy: none,
  },
} as const;
