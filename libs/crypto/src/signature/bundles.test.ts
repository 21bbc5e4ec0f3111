import { describe, expect, it } from 'vitest';
import { codeOf } from '../../testing/error-codes.ts';
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
      { ...bundle, id: 'dk\uDC00' },
      // Before 1970 a time has no 64-bit unsigned encoding; it must not be written as zero.
      { ...bundle, notBefore: '1969-12-31T23:59:59.999Z' },
      { ...bundle, notBefore: '0001-01-01T00:00:00.000Z' },
    ];
    for (const c of cases)
      expect(
        codeOf(() => canonicalDataKeyBundle(c)),
        JSON.stringify(c),
      ).toBe('InvalidBundle');
  });

  it('accepts the epoch itself as a time', () => {
    expect(codeOf(() => canonicalDataKeyBundle({ ...bundle, notBefore: '1970-01-01T00:00:00.000Z' }))).toBeUndefined();
  });

  it('returns what it verified, reading each field once', () => {
    const planted = PrivateKey.generate('x25519').publicKey.toBase64url();
    let reads = 0;
    const shifty = { id: bundle.id, notBefore: bundle.notBefore, notAfter: bundle.notAfter };
    Object.defineProperty(shifty, 'publicKey', {
      enumerable: true,
      get: () => (reads++ === 0 ? bundle.publicKey : planted),
    });
    const verified = verifyDataKeyBundle(orgKey.publicKey, shifty, signature);
    expect(verified.publicKey).toBe(bundle.publicKey);
    expect(verified.key.equals(dataKey.publicKey)).toBe(true);
    expect(reads).toBe(1);
  });

  it('turns a field that throws when read into InvalidBundle', () => {
    const hostile = { id: bundle.id, publicKey: bundle.publicKey, notBefore: bundle.notBefore };
    Object.defineProperty(hostile, 'notAfter', {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    });
    expect(codeOf(() => verifyDataKeyBundle(orgKey.publicKey, hostile, signature))).toBe('InvalidBundle');
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

  it('refuses ids that are not well-formed Unicode, which would sign as U+FFFD', () => {
    expect(codeOf(() => canonicalUserCertificate({ ...cert, id: 'alice\uD800' }))).toBe('InvalidBundle');
    // The certificate for a well-formed look-alike does not cover the ill-formed id.
    const lookAlike = signUserCertificate(orgKey, { ...cert, id: 'alice\uFFFD' });
    expect(codeOf(() => verifyUserCertificate(orgKey.publicKey, { ...cert, id: 'alice\uD800' }, lookAlike))).toBe(
      'InvalidBundle',
    );
  });

  it('returns what it verified, reading each field once', () => {
    const admin = PrivateKey.generate('x25519').publicKey.toBase64url();
    const reads: Record<string, number> = {};
    const shifty = {};
    for (const [field, first, later] of [
      ['id', cert.id, 'user-2'],
      ['role', cert.role, 'key-admin'],
      ['publicKey', cert.publicKey, admin],
    ] as const) {
      Object.defineProperty(shifty, field, {
        enumerable: true,
        get: () => {
          reads[field] = (reads[field] ?? 0) + 1;
          return reads[field] === 1 ? first : later;
        },
      });
    }
    const verified = verifyUserCertificate(orgKey.publicKey, shifty, signature);
    expect(verified).toMatchObject({ id: cert.id, role: 'viewer', publicKey: cert.publicKey });
    expect(verified.key.equals(user.publicKey)).toBe(true);
    expect(reads).toEqual({ id: 1, role: 1, publicKey: 1 });
  });

  it('has an encoding no data key bundle can share, and a signature no bundle accepts', () => {
    // The same strings in both shapes: id, and the key as the certificate's and the bundle's key.
    const sameStrings: DataKeyBundle = { ...bundle, id: cert.id, publicKey: cert.publicKey };
    const asCertificate = canonicalUserCertificate(cert);
    const asBundle = canonicalDataKeyBundle(sameStrings);
    // The first length-prefixed field is the domain label; the labels differ, and a
    // length-prefixed field is read unambiguously, so the two encodings can never be equal.
    const label = (encoded: Buffer) => encoded.subarray(2, 2 + encoded.readUInt16BE(0)).toString();
    expect(label(asCertificate)).toBe('coffer/user-certificate/v1');
    expect(label(asBundle)).toBe('coffer/data-key-bundle/v1');
    expect(asCertificate.equals(asBundle)).toBe(false);
    expect(codeOf(() => verifyDataKeyBundle(orgKey.publicKey, sameStrings, signature))).toBe('BadSignature');
    const bundleSignature = signDataKeyBundle(orgKey, sameStrings);
    expect(codeOf(() => verifyUserCertificate(orgKey.publicKey, cert, bundleSignature))).toBe('BadSignature');
  });
});

describe('key kinds', () => {
  const cert = { id: 'user-1', role: 'viewer' as const, publicKey: dataKey.publicKey.toBase64url() };

  it('refuse a trust root or signing key that is not Ed25519, by name', () => {
    const x25519 = PrivateKey.generate('x25519') as unknown as PrivateKey<'ed25519'>;
    const signature = signDataKeyBundle(orgKey, bundle);
    expect(codeOf(() => verifyDataKeyBundle(x25519.publicKey, bundle, signature))).toBe('InvalidKey');
    expect(codeOf(() => verifyUserCertificate(x25519.publicKey, cert, signature))).toBe('InvalidKey');
    expect(codeOf(() => signDataKeyBundle(x25519, bundle))).toBe('InvalidKey');
    expect(codeOf(() => signUserCertificate(x25519, cert))).toBe('InvalidKey');
  });
});
