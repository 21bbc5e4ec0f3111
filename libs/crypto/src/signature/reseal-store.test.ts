import { describe, expect, it } from 'vitest';
import { PrivateKey } from '../keys/keys.ts';
import { signResealStore, verifyResealStore } from './reseal-store.ts';

describe('reseal-store signatures (coffer/reseal-store/v1)', () => {
  const orgKey = PrivateKey.generate('ed25519');
  const digest = 'a'.repeat(64);

  it('verifies only the digest it signed, under the org key', () => {
    const sig = signResealStore(orgKey, digest);
    expect(verifyResealStore(orgKey.publicKey, digest, sig)).toBe(true);
    expect(verifyResealStore(orgKey.publicKey, 'b'.repeat(64), sig)).toBe(false);
    expect(verifyResealStore(PrivateKey.generate('ed25519').publicKey, digest, sig)).toBe(false);
    expect(verifyResealStore(orgKey.publicKey, digest, 'not-a-signature')).toBe(false);
  });
});
