/**
 * TOTP (RFC 6238: SHA-1, 6 digits, 30 s), computed by `otpauth`. The secret rests only sealed to
 * the user's own key, X25519 or X-Wing (totpBinding): the admin plane opens it with the key it unwrapped for
 * this request (from the password at sign-in, from the session during enrolment), checks the code
 * and forgets it. A code is accepted one step either side of now; the vault then refuses any step
 * not later than the last one it accepted, so each code works once.
 */
import { createHash, randomInt } from 'node:crypto';
import { open, type PrivateKey, type PublicKey, type RecipientKind, seal, totpBinding } from '@coffer/crypto';
import { Secret, TOTP } from 'otpauth';

export const TOTP_ISSUER = 'Coffer';
const PARAMS = { issuer: TOTP_ISSUER, algorithm: 'SHA1', digits: 6, period: 30 } as const;
/** Steps accepted either side of the current one: clocks drift and people type slowly. */
export const TOTP_WINDOW = 1;

/** A new secret (20 random bytes, as RFC 4226 recommends) and its otpauth:// URL for the app. */
export function newTotp(label: string): { totp: TOTP; secret: Secret } {
  const secret = new Secret({ size: 20 });
  return { totp: new TOTP({ ...PARAMS, label, secret }), secret };
}

export function sealTotpSecret(recipient: PublicKey<RecipientKind>, userId: string, secret: Secret): Buffer {
  return seal(recipient, Buffer.from(secret.bytes), totpBinding(userId));
}

/** Open a sealed secret; throws a CryptoError when the blob is not this user's. */
export function openTotpSecret(userKey: PrivateKey<RecipientKind>, userId: string, sealed: string): Secret {
  const bytes = open(userKey, Buffer.from(sealed, 'base64'), totpBinding(userId));
  try {
    // A fresh ArrayBuffer of exactly these bytes (a Buffer's .buffer may be a shared pool).
    return new Secret({ buffer: Uint8Array.from(bytes).buffer });
  } finally {
    bytes.fill(0);
  }
}

/**
 * The time step whose code this is, within one step of `at`; undefined for anything else (no code,
 * a malformed one, a wrong one, one from further away).
 */
export function acceptedStep(secret: Secret, code: string | undefined, at: Date): number | undefined {
  if (code === undefined || !/^[0-9]{6}$/.test(code)) return undefined;
  const totp = new TOTP({ ...PARAMS, secret });
  const timestamp = at.getTime();
  const delta = totp.validate({ token: code, timestamp, window: TOTP_WINDOW });
  return delta === null ? undefined : totp.counter({ timestamp }) + delta;
}

const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // 32 symbols, none easily misread

/**
 * A one-time enrolment code a key-admin hands to a confirmed user (issue 9 item 3): 20 symbols of
 * 5 bits, 100 bits in all, shown in groups of five. Only its hash crosses the bus.
 */
export function newEnrolCode(): string {
  const symbols = Array.from({ length: 20 }, () => CODE_ALPHABET[randomInt(32)]).join('');
  return symbols.match(/.{5}/g)?.join('-') ?? symbols;
}

/** SHA-256 (hex) of an enrolment code as typed: case, spaces and dashes do not matter. */
export function enrolCodeHash(code: string): string {
  return createHash('sha256').update(code.toUpperCase().replace(/[\s-]/g, '')).digest('hex');
}
