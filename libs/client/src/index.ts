/**
 * @coffer/client — Coffer for customers' backends. `createClient` is the API. Every refusal is a
 * SealError with a named `code` (the same vocabulary as the browser SDK): BadSignature,
 * InvalidBundle, KeyExpired, InvalidValue, Refused, Unavailable.
 */
export type { Accepted, SealedSubmission } from '@coffer/seal';
export { isSealError, SEAL_ERROR_CODES, SealError, type SealErrorCode } from '@coffer/seal';
export { type ClientOptions, type CofferClient, createClient } from './client.ts';
