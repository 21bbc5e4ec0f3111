/**
 * Session-bound unwrapping, all in memory inside one request: token → session key → the user's
 * private key → a data key → the record. Nothing unwrapped outlives the request.
 */
import {
  dataKeyWrapBinding,
  deriveSessionKey,
  open,
  orgKeyWrapBinding,
  type PrivateKey,
  recordBinding,
  sessionKeyAad,
  unwrapPrivateKey,
  unwrapWithSymmetricKey,
} from '@coffer/crypto';
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

/** A key-admin's copy of the org signing key, through their session: for certificates and bundles. */
export function unwrapOrgKey(
  token: string,
  material: { session: SessionKeyMaterial; orgKeyId: string; orgKey: string },
): { callerKey: PrivateKey<'x25519'>; orgKey: PrivateKey<'ed25519'> } {
  const callerKey = unwrapUserKey(token, material.session);
  const orgKey = unwrapPrivateKey(
    'ed25519',
    callerKey,
    Buffer.from(material.orgKey, 'base64'),
    orgKeyWrapBinding(material.orgKeyId, material.session.userId),
  );
  return { callerKey, orgKey };
}

export function unwrapDataKey(userKey: PrivateKey<'x25519'>, userId: string, dataKeyId: string, wrapped: string) {
  return unwrapPrivateKey('x25519', userKey, Buffer.from(wrapped, 'base64'), dataKeyWrapBinding(dataKeyId, userId));
}

/** Open one record's sealed value; the returned buffer is the caller's to wipe. */
export function openRecord(
  dataKey: PrivateKey<'x25519'>,
  record: { id: string; type: string; dataKeyId: string; sealed: string },
): Buffer {
  return open(dataKey, Buffer.from(record.sealed, 'base64'), recordBinding(record.id, record.type, record.dataKeyId));
}
