/** Contract rows: break-glass recovery, and the delay that holds it (issue 16 item 4c). */
import { type Static, Type } from '@sinclair/typebox';
import {
  B64,
  Email,
  Hex64,
  Id,
  Instant,
  Origin,
  PublicKeyB64url,
  RecipientKeyB64url,
  SignatureB64url,
  Uuid,
  Verifier,
  Versioned,
} from '../vocabulary.ts';
import { Copy, Done, entry, keyAdmin, keyAdminOn, openRow, SessionOnly, SuiteFloor, WrappedDataKey } from './rows.ts';

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
  ...SuiteFloor,
});
export type RecoveryMaterial = Static<typeof RecoveryMaterial>;

export const RecoveryEnrolled = Type.Object({
  userId: Id,
  /** issue 16 item 4c: the recovered keys reach the new key-admin only then (unset: now). */
  heldUntil: Type.Optional(Instant),
});

/** Break-glass recoveries waiting for their delay (issue 16, item 4c). */
export const RecoveryHolds = Type.Object({
  items: Type.Array(Type.Object({ userId: Id, email: Type.String(), heldAt: Instant, releaseAt: Instant })),
});

export const RecoveryContract = {
  /** Break-glass, step 1: a challenge sealed to the recovery key, and the recovery key's copies. */
  'recovery.begin': openRow(Versioned({ origin: Origin }), RecoveryMaterial),
  /** Break-glass, step 2: the opened challenge and a new key-admin made with the recovered keys. */
  'recovery.enrol': openRow(
    Versioned({
      challengeId: Id,
      answer: PublicKeyB64url,
      admin: Type.Object(
        {
          id: Id,
          email: Email,
          passwordVerifier: Verifier,
          keyVersion: Type.Integer({ minimum: 1 }),
          publicKey: RecipientKeyB64url,
          wrappedPrivateKey: B64,
          certificateSignature: SignatureB64url,
          /** The new key-admin's TOTP secret sealed to their key (issue 9 item 3); see `coffer recover`. */
          totpSealed: Type.Optional(B64),
        },
        { additionalProperties: false },
      ),
      orgKey: B64,
      dataKeys: Type.Array(Copy, { maxItems: 512 }),
      origin: Origin,
    }),
    RecoveryEnrolled,
  ),
  // Break-glass recoveries waiting out their delay; any key-admin may cancel one.
  'recovery.holds': entry({ request: SessionOnly, reply: RecoveryHolds, policy: keyAdmin('recovery.holds') }),
  'recovery.cancel': entry({
    request: Versioned({ session: Hex64, userId: Uuid, origin: Origin }),
    reply: Done,
    policy: keyAdminOn('recovery.cancel', 'userId'),
  }),
  /**
   * The immediate path: a second officer (`coffer recover --release-now`, a run of its own with
   * its own `recovery.begin` challenge) releases a held recovery at once. The answer proves k
   * shares; `approval` is the org key's signature (coffer/recovery-release/v1) over the
   * challenge, the held account and its key's fingerprint, checked against the trust root.
   */
  'recovery.release-now': openRow(
    Versioned({
      challengeId: Id,
      answer: PublicKeyB64url,
      userId: Uuid,
      fingerprint: Type.String({ pattern: '^[0-9]{30}$' }),
      approval: SignatureB64url,
      origin: Origin,
    }),
    Done,
  ),
} as const;
