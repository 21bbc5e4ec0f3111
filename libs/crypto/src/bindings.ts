/**
 * What each seal belongs to. The HPKE info names the kind of blob and the AAD names the exact
 * owner, so that a blob moved to another record, key or user fails to open.
 */
import { lengthPrefixed } from './bytes.ts';

export interface Binding {
  /** HPKE info: the kind of blob, versioned. */
  readonly info: string;
  /** Associated data: the ids this blob belongs to, length-prefixed. */
  readonly aad: Buffer;
}

/** A submitted value, sealed to a data key. */
export function recordBinding(recordId: string, type: string, dataKeyId: string): Binding {
  return { info: 'coffer/record/v1', aad: lengthPrefixed(recordId, type, dataKeyId) };
}

/**
 * A user's TOTP secret (enrolled or pending), sealed to that user's own X25519 key: only a session
 * or password that unwraps the user's key opens it, and a database dump holds only the blob.
 */
export function totpBinding(userId: string): Binding {
  return { info: 'coffer/totp/v1', aad: lengthPrefixed(userId) };
}

/** The HPKE info of every wrapped private key starts with this; see isWrappedKeyBinding. */
const WRAPPED_KEY_INFO_PREFIX = 'coffer/wrap/';

/**
 * Whether a binding is a wrapped private key's. Those blobs hold raw private bytes, so only
 * wrap/unwrap may seal or open them, and wrap/unwrap may use nothing else.
 */
export function isWrappedKeyBinding(binding: Binding): boolean {
  return binding.info.startsWith(WRAPPED_KEY_INFO_PREFIX);
}

/** A data key's private half, wrapped to one recipient (user or recovery key). */
export function dataKeyWrapBinding(dataKeyId: string, recipientId: string): Binding {
  return { info: `${WRAPPED_KEY_INFO_PREFIX}data-key/v1`, aad: lengthPrefixed(dataKeyId, recipientId) };
}

/** The org signing key's private half, wrapped to a key-admin or to the recovery key. */
export function orgKeyWrapBinding(orgKeyId: string, recipientId: string): Binding {
  return { info: `${WRAPPED_KEY_INFO_PREFIX}org-key/v1`, aad: lengthPrefixed(orgKeyId, recipientId) };
}

/**
 * A random challenge the vault seals to the recovery public key: opening it proves that whoever
 * runs `coffer recover` rebuilt the recovery key from enough shares.
 */
export function recoveryChallengeBinding(challengeId: string): Binding {
  return { info: 'coffer/recovery-challenge/v1', aad: lengthPrefixed(challengeId) };
}

/** AAD of a user's private key wrapped under the password-derived KEK. */
export function userKeyAad(userId: string, keyVersion: number): Buffer {
  return lengthPrefixed('coffer/user-key/v1', userId, String(keyVersion));
}

/** AAD of a user's private key re-wrapped under a session key. */
export function sessionKeyAad(sessionId: string, userId: string): Buffer {
  return lengthPrefixed('coffer/session-key/v1', sessionId, userId);
}
