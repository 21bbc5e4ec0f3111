/**
 * The signed-in key-admin as a key holder for one use: their private key, opened through the
 * session, is destroyed as soon as `use` returns or throws (F5a: nothing unwrapped outlives the
 * request). `use` must be synchronous and must not keep the holder.
 */
import type { Holder } from '@coffer/keyring';
import type { SessionKeyMaterial } from '@coffer/protocol';
import { sessionHolder } from './unwrap.ts';

export function withSessionHolder<T>(token: string, material: SessionKeyMaterial, use: (holder: Holder) => T): T {
  const holder = sessionHolder(token, material);
  try {
    return use(holder);
  } finally {
    holder.key.destroy();
  }
}
