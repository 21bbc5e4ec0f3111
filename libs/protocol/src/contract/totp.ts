/** Contract rows: enrolling a TOTP second factor. */
import { Type } from '@sinclair/typebox';
import { B64, Hex64, Id, Origin, TotpStep, Versioned } from '../vocabulary.ts';
import { Done, Nullable, ownRow, SessionKeyMaterial, SessionOnly } from './rows.ts';

export const TotpMaterial = Type.Object({
  email: Type.String(),
  /** The pending secret, sealed to the user's key; null when none is on offer. */
  pending: Nullable(B64),
  enrolled: Type.Boolean(),
  session: SessionKeyMaterial,
});

export const TotpContract = {
  /** What TOTP enrolment needs: the caller's email, session key material and pending secret. */
  'totp.material': ownRow(SessionOnly, TotpMaterial),
  /**
   * Offer a new TOTP secret (sealed to the caller's key) for enrolment; replaces any pending one.
   * A confirmed account without TOTP must send `enrolCode`, the SHA-256 of a one-time code a
   * key-admin issued (issue 9 item 3); it is used up here. (`users.enrol-code` issues it.)
   */
  'totp.pending': ownRow(
    Versioned({ session: Hex64, sealed: B64, enrolCode: Type.Optional(Hex64), origin: Type.Optional(Origin) }),
    Done,
  ),
  /** A code for the pending secret matched at `step`: it becomes the caller's TOTP. Audited. */
  'totp.enrol': ownRow(Versioned({ session: Hex64, pending: B64, step: TotpStep, origin: Origin }), Done),
  /** A code for the pending secret did not match: audited as a failed enrolment. */
  'totp.enrol-failed': ownRow(Versioned({ session: Hex64, error: Id, origin: Origin }), Done),
} as const;
