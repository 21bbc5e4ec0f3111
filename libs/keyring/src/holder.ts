/**
 * A holder: whoever wrapped copies of keys are addressed to — a user (by user id) or the recovery
 * key (by its key id). Its private key opens the copies wrapped to that id, nothing else.
 */
import {
  dataKeyWrapBinding,
  orgKeyWrapBinding,
  type PrivateKey,
  type PublicKey,
  unwrapPrivateKey,
  wrapPrivateKey,
} from '@coffer/crypto';

export interface Holder {
  readonly id: string;
  readonly key: PrivateKey<'x25519'>;
}

/** Someone a key is wrapped to: a certified user or the org's recovery key. */
export interface Recipient {
  readonly kind: 'user' | 'recovery';
  readonly id: string;
  readonly key: PublicKey<'x25519'>;
}

/** A data key's copy for one holder, as the vault stores and returns it. */
export interface DataKeyCopy {
  readonly keyId: string;
  readonly wrapped: string;
}

const b64 = (b: Buffer) => b.toString('base64');

export function openOrgKey(holder: Holder, orgKeyId: string, wrapped: string): PrivateKey<'ed25519'> {
  return unwrapPrivateKey(
    'ed25519',
    holder.key,
    Buffer.from(wrapped, 'base64'),
    orgKeyWrapBinding(orgKeyId, holder.id),
  );
}

export function openDataKey(holder: Holder, copy: DataKeyCopy): PrivateKey<'x25519'> {
  return unwrapPrivateKey(
    'x25519',
    holder.key,
    Buffer.from(copy.wrapped, 'base64'),
    dataKeyWrapBinding(copy.keyId, holder.id),
  );
}

export function wrapOrgKey(
  orgKey: PrivateKey<'ed25519'>,
  orgKeyId: string,
  to: { id: string; key: PublicKey<'x25519'> },
) {
  return b64(wrapPrivateKey(orgKey, to.key, orgKeyWrapBinding(orgKeyId, to.id)));
}

export function wrapDataKey(
  dataKey: PrivateKey<'x25519'>,
  keyId: string,
  to: { id: string; key: PublicKey<'x25519'> },
) {
  return b64(wrapPrivateKey(dataKey, to.key, dataKeyWrapBinding(keyId, to.id)));
}

/**
 * Re-wrap every data key `holder` holds to `to` (a new user, a recovered key-admin): the one loop
 * that hands existing keys to someone new. O(data keys), never O(records).
 */
export function rewrapDataKeys(
  holder: Holder,
  copies: readonly DataKeyCopy[],
  to: { id: string; key: PublicKey<'x25519'> },
): DataKeyCopy[] {
  return copies.map((copy) => ({ keyId: copy.keyId, wrapped: wrapDataKey(openDataKey(holder, copy), copy.keyId, to) }));
}
