import { describe, expect, it } from 'vitest';
import { PrivateKey } from '../keys/keys.ts';
import { signOrgConfig, verifyOrgConfig } from './org-config.ts';

describe('org configuration (coffer/org-config/v1)', () => {
  const orgKey = PrivateKey.generate('ed25519');
  const config = { v: 1 as const, orgKeyId: 'org-1', suite: 'xwing' as const };
  const signature = signOrgConfig(orgKey, config);

  it('verifies as signed, whatever the JSON field order', () => {
    expect(verifyOrgConfig(orgKey.publicKey, { suite: 'xwing', orgKeyId: 'org-1', v: 1 }, signature)).toEqual(config);
  });

  it('refuses a changed suite or org, another signer, extra fields and unknown suites or versions', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return (err as { code?: string }).code;
      }
      return 'verified';
    };
    expect(code(() => verifyOrgConfig(orgKey.publicKey, { ...config, suite: 'x25519' }, signature))).toBe(
      'BadSignature',
    );
    expect(code(() => verifyOrgConfig(orgKey.publicKey, { ...config, orgKeyId: 'org-2' }, signature))).toBe(
      'BadSignature',
    );
    expect(code(() => verifyOrgConfig(PrivateKey.generate('ed25519').publicKey, config, signature))).toBe(
      'BadSignature',
    );
    expect(code(() => verifyOrgConfig(orgKey.publicKey, { ...config, extra: 1 }, signature))).toBe('InvalidBundle');
    expect(code(() => verifyOrgConfig(orgKey.publicKey, { ...config, suite: 'kyber' }, signature))).toBe(
      'UnsupportedSuite',
    );
    expect(code(() => verifyOrgConfig(orgKey.publicKey, { ...config, v: 3 }, signature))).toBe('UnsupportedVersion');
    expect(code(() => verifyOrgConfig(orgKey.publicKey, config, 'short'))).toBe('BadSignature');
  });

  it('v2 signs the configuration version: a changed version or a v1 reading of it does not verify', () => {
    const next = { v: 2 as const, orgKeyId: 'org-1', suite: 'xwing' as const, version: 2 };
    const sig = signOrgConfig(orgKey, next);
    expect(verifyOrgConfig(orgKey.publicKey, next, sig)).toEqual(next);
    expect(() => verifyOrgConfig(orgKey.publicKey, { ...next, version: 3 }, sig)).toThrow(/signature/i);
    expect(() => verifyOrgConfig(orgKey.publicKey, config, sig)).toThrow();
    expect(() => verifyOrgConfig(orgKey.publicKey, { ...next, version: 1 }, sig)).toThrow(/version/);
    expect(() => verifyOrgConfig(orgKey.publicKey, { v: 2, orgKeyId: 'org-1', suite: 'xwing' }, sig)).toThrow(/fields/);
  });
});
