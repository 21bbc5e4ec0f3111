/**
 * Whatever shamir-secret-sharing throws reaches the caller as a CryptoError. The library is
 * replaced here by one whose combine() throws, since well-formed input never makes it throw.
 */
import { describe, expect, it, vi } from 'vitest';
import { CryptoError } from '../errors.ts';
import { PrivateKey } from '../keys/keys.ts';
import { combineRecoveryShares, splitRecoveryKey } from './recovery-shares.ts';

const failing = vi.hoisted(() => ({ combine: false }));
vi.mock('shamir-secret-sharing', async (importOriginal) => {
  const real = await importOriginal<typeof import('shamir-secret-sharing')>();
  return {
    ...real,
    combine: (shares: Uint8Array[]) => {
      if (failing.combine) throw new RangeError('shares must contain unique values but a duplicate was found');
      return real.combine(shares);
    },
  };
});

describe('errors of the secret-sharing library', () => {
  it('become ShareSetMismatch', async () => {
    const recovery = PrivateKey.generate('x25519');
    const shares = await splitRecoveryKey(recovery, 5, 3);
    failing.combine = true;
    let caught: unknown;
    try {
      await combineRecoveryShares(shares.slice(0, 3), recovery.publicKey, 3);
    } catch (err) {
      caught = err;
    } finally {
      failing.combine = false;
    }
    expect(caught).toBeInstanceOf(CryptoError);
    expect((caught as CryptoError).code).toBe('ShareSetMismatch');
  });
});
