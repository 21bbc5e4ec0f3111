/**
 * Every failure in @coffer/crypto is a CryptoError with one of these codes. Callers branch on
 * `code`, never on message text; messages never contain key material or plaintext.
 */
export const CryptoErrorCode = {
  /** Input too short to hold the fields its format requires. */
  Truncated: 'Truncated',
  /** Format version byte is not one this build reads. */
  UnsupportedVersion: 'UnsupportedVersion',
  /** Algorithm identifiers are not a suite this build accepts. */
  UnsupportedSuite: 'UnsupportedSuite',
  /** Structurally wrong input (bad length, trailing bytes, bad encoding). */
  Malformed: 'Malformed',
  /** Authentication failed: wrong key, wrong binding (AAD/info), or tampered bytes. */
  DecryptionFailed: 'DecryptionFailed',
  /** Key bytes are not a valid key of the expected kind. */
  InvalidKey: 'InvalidKey',
  /** Unwrapped key is of another kind than the caller asked for. */
  WrongKeyKind: 'WrongKeyKind',
  /** Signature does not verify under the given public key. */
  BadSignature: 'BadSignature',
  /** A bundle or certificate is not in its canonical shape. */
  InvalidBundle: 'InvalidBundle',
  /** Password does not match the stored verifier. */
  WrongPassword: 'WrongPassword',
  /** Parameters are below the floor this build enforces (or a share split that cannot work). */
  WeakParameters: 'WeakParameters',
  /**
   * Parameters are not integers or are above the ceiling this build accepts: a stored verifier
   * asking for more would make one sign-in take minutes or gigabytes.
   */
  InvalidParameters: 'InvalidParameters',
  /** A binding used where it does not belong: a wrapped-key binding outside wrap/unwrap, or the reverse. */
  WrongBinding: 'WrongBinding',
  /** A multi-record sealing context has sealed as many records as it may: open a new one. */
  ContextExhausted: 'ContextExhausted',
  /** A record sealed under a shared context was given no (or another) context key to open with. */
  ContextMismatch: 'ContextMismatch',
  /** A printed recovery share fails its checksum (mistyped or damaged). */
  ShareChecksumMismatch: 'ShareChecksumMismatch',
  /** Shares belong to different sets, repeat an index, or are fewer than the threshold. */
  ShareSetMismatch: 'ShareSetMismatch',
  /** Combined shares do not rebuild the expected recovery key. */
  RecoveryKeyMismatch: 'RecoveryKeyMismatch',
} as const;
export type CryptoErrorCode = (typeof CryptoErrorCode)[keyof typeof CryptoErrorCode];

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string = code) {
    super(message);
    this.code = code;
  }
}

export function isCryptoError(err: unknown, code?: CryptoErrorCode): err is CryptoError {
  return err instanceof CryptoError && (code === undefined || err.code === code);
}
