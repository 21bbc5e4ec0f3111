/**
 * Session-bound unwrapping, all in memory inside one request: token → session key → the user's
 * private key → a data key → the record. Nothing unwrapped outlives the request.
 */
import {
  deriveSessionKey,
  open,
  type PrivateKey,
  recordBinding,
  sessionKeyAad,
  unwrapWithSymmetricKey,
} from '@coffer/crypto';
import { type Holder, openDataKey } from '@coffer/keyring';
import type { SessionKeyMaterial } from '@coffer/protocol';

export function unwrapUserKey(token: string, material: SessionKeyMaterial): PrivateKey<'x25519'> {
  const sessionKey = deriveSessionKey(token, material.sessionId);
  try {
    return unwrapWithSymmetricKey(
      'x25519',
      sessionKey,
      Buffer.from(material.wrappedKey, 'base64'),
      sessionKeyAad(material.sessionId, material.userId),
    );
  } finally {
    sessionKey.destroy();
  }
}

/** The signed-in user as a key holder, for @coffer/keyring: their key, opened through the session. */
export function sessionHolder(token: string, material: SessionKeyMaterial): Holder {
  return { id: material.userId, key: unwrapUserKey(token, material) };
}

export function unwrapDataKey(userKey: PrivateKey<'x25519'>, userId: string, dataKeyId: string, wrapped: string) {
  return openDataKey({ id: userId, key: userKey }, { keyId: dataKeyId, wrapped });
}

/** Open one record's sealed value; the returned buffer is the caller's to wipe. */
export function openRecord(
  dataKey: PrivateKey<'x25519'>,
  record: { id: string; type: string; dataKeyId: string; sealed: string },
): Buffer {
  return open(dataKey, Buffer.from(record.sealed, 'base64'), recordBinding(record.id, record.type, record.dataKeyId));
}
