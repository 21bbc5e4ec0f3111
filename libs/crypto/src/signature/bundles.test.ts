import { describe, expect, it } from 'vitest';
import { CryptoError } from '../errors.ts';
import { PrivateKey } from '../keys/keys.ts';
import {
  bundleCovers,
  canonicalDataKeyBundle,
  canonicalUserCertificate,
  type DataKeyBundle,
  signDataKeyBundle,
  signUserCertificate,
  verifyDataKeyBundle,
  verifyUserCertificate,
} from './bundles.ts';

const orgKey = PrivateKey.generate('ed25519');
const otherOrg = PrivateKey.generate('ed25519');
const dataKey = PrivateKey.generate('x25519');
const bundle: DataKeyBundle = {
  id: 'dk-2026-q4',
  publicKey: dataKey.publicKey.toBase64url(),
  notBefore: '2026-10-01T00:00:00.000Z',
  notAfter: '2026-12-30T00:00:00.000Z',
};

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof CryptoError) return err.code;
    throw err;
  }
  return undefined;
}

describe('data key bundle', () => {
  const signature = signDataKeyBundle(orgKey, bundle);

  it('has one canonical encoding whatever the JSON field order', () => {
    const reordered = JSON.parse(
      JSON.stringify({
        notAfter: bundle.notAfter,
        id: bundle.id,
        notBefore: bundle.notBefore,
        publicKey: bundle.publicKey,
      }),
    );
    expect(canonicalDataKeyBundle(reordered).equals(canonicalDataKeyBundle(bundle))).toBe(true);
    expect(verifyDataKeyBundle(orgKey.publicKey, reordered, signature).key.equals(dataKey.publicKey)).toBe(true);
  });

  it('refuses a signature from another org key, or over a changed field', () => {
    expect(codeOf(() => verifyDataKeyBundle(otherOrg.publicKey, bundle, signature))).toBe('BadSignature');
    expect(
      codeOf(() =>
        verifyDataKeyBundle(orgKey.publicKey, { ...bundle, notAfter: '2027-12-30T00:00:00.000Z' }, signature),
      ),
    ).toBe('BadSignature');
    const planted = PrivateKey.generate('x25519').publicKey.toBase64url();
    expect(codeOf(() => verifyDataKeyBundle(orgKey.publicKey, { ...bundle, publicKey: planted }, signature))).toBe(
      'BadSignature',
    );
    expect(codeOf(() => verifyDataKeyBundle(orgKey.publicKey, bundle, signature.slice(0, -2)))).toBe('BadSignature');
  });

  it('refuses bundles that are not in canonical shape', () => {
    const cases: unknown[] = [
      null,
      [],
      { ...bundle, extra: 1 },
      { id: bundle.id, publicKey: bundle.publicKey, notBefore: bundle.notBefore },
      { ...bundle, id: '' },
      { ...bundle, notBefore: '2026-10-01T00:00:00Z' },
      { ...bundle, notBefore: '2026-02-30T00:00:00.000Z' },
      { ...bundle, notBefore: bundle.notAfter },
      { ...bundle, publicKey: 'AAAA' },
      { ...bundle, notAfter: 1 },
    ];
    for (const c of cases)
      expect(
        codeOf(() => canonicalDataKeyBundle(c)),
        JSON.stringify(c),
      ).toBe('InvalidBundle');
  });

  it('covers [notBefore, notAfter)', () => {
    expect(bundleCovers(bundle, new Date('2026-10-01T00:00:00.000Z'))).toBe(true);
    expect(bundleCovers(bundle, new Date('2026-09-30T23:59:59.999Z'))).toBe(false);
    expect(bundleCovers(bundle, new Date('2026-12-30T00:00:00.000Z'))).toBe(false);
  });
});

describe('user certificate', () => {
  const user = PrivateKey.generate('x25519');
  const cert = { id: 'user-1', role: 'viewer' as const, publicKey: user.publicKey.toBase64url() };
  const signature = signUserCertificate(orgKey, cert);

  it('verifies under the trust root and not another key', () => {
    expect(
      verifyUserCertificate(orgKey.publicKey, { publicKey: cert.publicKey, role: 'viewer', id: 'user-1' }, signature)
        .role,
    ).toBe('viewer');
    expect(codeOf(() => verifyUserCertificate(otherOrg.publicKey, cert, signature))).toBe('BadSignature');
  });

  it('binds the role: a viewer certificate does not certify a key-admin', () => {
    expect(codeOf(() => verifyUserCertificate(orgKey.publicKey, { ...cert, role: 'key-admin' }, signature))).toBe(
      'BadSignature',
    );
    expect(codeOf(() => canonicalUserCertificate({ ...cert, role: 'root' }))).toBe('InvalidBundle');
  });

  it('is not interchangeable with a data key bundle signature', () => {
    expect(canonicalUserCertificate(cert).subarray(0, 30).toString()).toContain('coffer/user-certificate/v1');
    expect(codeOf(() => verifyDataKeyBundle(orgKey.publicKey, bundle, signature))).toBe('BadSignature');
  });
});
