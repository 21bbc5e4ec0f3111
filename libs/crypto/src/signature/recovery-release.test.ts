import { describe, expect, it } from 'vitest';
import { PrivateKey } from '../keys/keys.ts';
import { signRecoveryRelease, verifyRecoveryRelease } from './recovery-release.ts';

describe('recovery-release approvals (coffer/recovery-release/v1)', () => {
  const orgKey = PrivateKey.generate('ed25519');
  const release = {
    challengeId: '0190f5c2-0000-7000-8000-000000000001',
    userId: '0190f5c2-0000-7000-8000-000000000002',
    fingerprint: '12345 67890 12345 67890 12345 67890',
  };

  it('verifies only the challenge, account and key it approved, under the org key', () => {
    const sig = signRecoveryRelease(orgKey, release);
    expect(verifyRecoveryRelease(orgKey.publicKey, release, sig)).toBe(true);
    // Spacing of the fingerprint as typed does not matter; its digits do.
    expect(
      verifyRecoveryRelease(orgKey.publicKey, { ...release, fingerprint: release.fingerprint.replace(/ /g, '') }, sig),
    ).toBe(true);
    expect(
      verifyRecoveryRelease(orgKey.publicKey, { ...release, fingerprint: `9${release.fingerprint.slice(1)}` }, sig),
    ).toBe(false);
    expect(verifyRecoveryRelease(orgKey.publicKey, { ...release, userId: release.challengeId }, sig)).toBe(false);
    expect(verifyRecoveryRelease(orgKey.publicKey, { ...release, challengeId: release.userId }, sig)).toBe(false);
    expect(verifyRecoveryRelease(PrivateKey.generate('ed25519').publicKey, release, sig)).toBe(false);
    expect(verifyRecoveryRelease(orgKey.publicKey, release, 'not-a-signature')).toBe(false);
  });
});
