/**
 * The wrapped copies a ceremony leaves for one kind of holder, as the keyring's tests hand them to
 * recovery and to confirmation: what the vault would return from its rows.
 */
import type { CeremonyOutput } from '../src/ceremony.ts';

type Request = CeremonyOutput['request'];

function copyFor(copies: readonly { recipientKind: string; wrapped: string }[], kind: 'user' | 'recovery'): string {
  return copies.find((c) => c.recipientKind === kind)?.wrapped as string;
}

/** The org key and every data key as the first key-admin holds them (their `user` copies). */
export function heldByFirstAdmin(request: Request) {
  return {
    orgKeyId: request.org.orgKeyId,
    orgKey: copyFor(request.orgKeyCopies, 'user'),
    dataKeys: request.dataKeys.map((k) => ({ keyId: k.bundle.id, wrapped: copyFor(k.copies, 'user') })),
  };
}

/** The recovery key (k of n: `threshold`) and its copies of the org key and every data key. */
export function heldByRecovery(request: Request, threshold: number) {
  return {
    recovery: { id: request.org.recoveryKeyId, publicKey: request.org.recoveryPublicKey, threshold },
    orgKeyId: request.org.orgKeyId,
    orgKey: copyFor(request.orgKeyCopies, 'recovery'),
    dataKeys: request.dataKeys.map((k) => ({ keyId: k.bundle.id, wrapped: copyFor(k.copies, 'recovery') })),
  };
}
