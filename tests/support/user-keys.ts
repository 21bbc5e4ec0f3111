/**
 * A person's keys as their browser session would hold them, read straight from the database (for
 * tests that check what a user can open): the password gives the KEK, the KEK the user key, the
 * user key each data key wrapped to them.
 */
import {
  dataKeyWrapBinding,
  type PrivateKey,
  type RecipientKind,
  unlockWithPassword,
  unwrapPrivateKey,
  unwrapWithSymmetricKey,
  userKeyAad,
} from '@coffer/crypto';
import type postgres from 'postgres';

export interface UserKey {
  readonly id: string;
  /** The user's own X25519 key. */
  readonly key: PrivateKey<'x25519'>;
}

/** The user key of the user with this email (or id), unwrapped with their password. */
export async function userKeyOf(db: postgres.Sql, who: { email: string } | { id: string }, password: string) {
  const [u] = await db<{ id: string; password_verifier: string; wrapped_private_key: Buffer; key_version: number }[]>`
    SELECT id::text, password_verifier, wrapped_private_key, key_version FROM users
    WHERE ${'email' in who ? db`email = ${who.email}` : db`id = ${who.id}`}`;
  if (!u) throw new Error('no such user row');
  const { kek } = await unlockWithPassword(password, u.password_verifier);
  try {
    const key = unwrapWithSymmetricKey('x25519', kek, u.wrapped_private_key, userKeyAad(u.id, u.key_version));
    return { id: u.id, key } satisfies UserKey;
  } finally {
    kek.destroy();
  }
}

/** A data key from its copy wrapped to `user`. */
export function dataKeyOf<K extends RecipientKind>(kind: K, user: UserKey, keyId: string, wrapped: Buffer) {
  return unwrapPrivateKey(kind, user.key, wrapped, dataKeyWrapBinding(keyId, user.id));
}
