/**
 * Every refusal of the SDK is a SealError with a named `code`, so a page can tell "the key could not
 * be trusted, nothing was sent" from "the network failed". Messages never quote the value.
 */
export const SEAL_ERROR_CODES = [
  /** The key bundle does not verify against the trust root compiled into this module. */
  'BadSignature',
  /** The key bundle is not well-formed (unknown fields, bad times, a key not of its suite). */
  'InvalidBundle',
  /** The key bundle names a suite this module cannot seal with: nothing is sealed, never downgraded. */
  'UnsupportedSuite',
  /** The signed key's window does not cover now: expired, or not yet valid. */
  'KeyExpired',
  /** The value does not pass its type's rules (the same rules ingest applies). */
  'InvalidValue',
  /** Ingest refused the submission (4xx other than 429); `status` and `problem` say why. */
  'Refused',
  /** Ingest or the network stayed unavailable through every retry. */
  'Unavailable',
] as const;
export type SealErrorCode = (typeof SEAL_ERROR_CODES)[number];

export class SealError extends Error {
  override readonly name = 'SealError';
  readonly code: SealErrorCode;
  /** For InvalidValue: the rule that failed (e.g. `pan.luhn`). */
  readonly rule: string | undefined;
  /** For Refused / Unavailable: the last HTTP status and RFC 9457 problem, if any. */
  readonly status: number | undefined;
  readonly problem: unknown;

  constructor(code: SealErrorCode, message: string, extra: { rule?: string; status?: number; problem?: unknown } = {}) {
    super(message);
    this.code = code;
    this.rule = extra.rule;
    this.status = extra.status;
    this.problem = extra.problem;
  }
}

export function isSealError(err: unknown): err is SealError {
  return err instanceof SealError;
}
