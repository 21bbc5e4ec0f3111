/**
 * A holder: whoever wrapped copies of keys are addressed to — a user (by user id) or the recovery
 * key (by its key id). Its private key opens the copies wrapped to that id, nothing else.
 */
import {
  type BundleSuite,
  dataKeyWrapBinding,
  orgKeyWrapBinding,
  type PrivateKey,
  type PublicKey,
  type RecipientKind,
  unwrapPrivateKey,
  wrapPrivateKey,
} from '@coffer/crypto';

export interface Holder {
  readonly id: string;
  readonly key: PrivateKey<RecipientKind>;
}

/** Someone a key is wrapped to: a certified user or the org's recovery key. */
export interface Recipient {
  readonly kind: 'user' | 'recovery';
  readonly id: string;
  readonly key: PublicKey<RecipientKind>;
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

/**
 * `suite` is the data key's, as its verified bundle or the record it opens names it: a copy
 * holding a key of another kind is refused (WrongKeyKind), never read as this one.
 */
export function openDataKey<S extends BundleSuite = 'x25519'>(
  holder: Holder,
  copy: DataKeyCopy,
  suite: S = 'x25519' as S,
): PrivateKey<S> {
  return unwrapPrivateKey(
    suite,
    holder.key,
    Buffer.from(copy.wrapped, 'base64'),
    dataKeyWrapBinding(copy.keyId, holder.id),
  );
}

/** The org key opened for one use, destroyed as soon as `use` returns or throws (`use` is synchronous). */
export function withOrgKey<T>(
  holder: Holder,
  held: { readonly orgKeyId: string; readonly orgKey: string },
  use: (orgKey: PrivateKey<'ed25519'>) => T,
): T {
  const orgKey = openOrgKey(holder, held.orgKeyId, held.orgKey);
  try {
    return use(orgKey);
  } finally {
    orgKey.destroy();
  }
}

export function wrapOrgKey(
  orgKey: PrivateKey<'ed25519'>,
  orgKeyId: string,
  to: { id: string; key: PublicKey<RecipientKind> },
) {
  return b64(wrapPrivateKey(orgKey, to.key, orgKeyWrapBinding(orgKeyId, to.id)));
}

export function wrapDataKey(
  dataKey: PrivateKey<RecipientKind>,
  keyId: string,
  to: { id: string; key: PublicKey<RecipientKind> },
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
  to: { id: string; key: PublicKey<RecipientKind> },
): DataKeyCopy[] {
  // Data keys of either suite (an org's older X25519 keys, its X-Wing ones): each is re-wrapped as
  // the kind it is; which record it opens is still decided by the record's own suite.
  return copies.map((copy) => {
    const key = openAnyDataKey(holder, copy);
    try {
      return { keyId: copy.keyId, wrapped: wrapDataKey(key, copy.keyId, to) };
    } finally {
      key.destroy(); // wiped once re-wrapped: the copy is all that is kept
    }
  });
}

export function openAnyDataKey(holder: Holder, copy: DataKeyCopy): PrivateKey<RecipientKind> {
  return unwrapPrivateKey<RecipientKind>(
    ['x25519', 'xwing'],
    holder.key,
    Buffer.from(copy.wrapped, 'base64'),
    dataKeyWrapBinding(copy.keyId, holder.id),
  );
}
