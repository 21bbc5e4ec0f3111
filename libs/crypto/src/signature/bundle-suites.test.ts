import { sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../../testing/error-codes.ts';
import { i2osp, lengthPrefixed } from '../bytes.ts';
import { PrivateKey, privateKeyObject } from '../keys/keys.ts';
import {
  canonicalDataKeyBundle,
  canonicalUserCertificate,
  type DataKeyBundle,
  signDataKeyBundle,
  signUserCertificate,
  verifyDataKeyBundle,
  verifyUserCertificate,
} from './bundles.ts';

const orgKey = PrivateKey.generate('ed25519');
const classical = PrivateKey.generate('x25519');
const hybrid = PrivateKey.generate('xwing');
const window = { notBefore: '2027-01-01T00:00:00.000Z', notAfter: '2027-04-01T00:00:00.000Z' };
const both = ['x25519', 'xwing'] as const;

describe('data key bundles name their suite (canonical v2), and v1 stays verifiable', () => {
  const v1: DataKeyBundle = { id: 'dk-old', publicKey: classical.publicKey.toBase64url(), ...window };
  const v2: DataKeyBundle = { id: 'dk-pq', suite: 'xwing', publicKey: hybrid.publicKey.toBase64url(), ...window };

  it('verifies a bundle signed over the v1 canonical bytes (as before suites) as X25519', () => {
    // Signed over the v1 encoding computed here, independently of bundles.ts.
    const bytes = lengthPrefixed(
      'coffer/data-key-bundle/v1',
      'dk-old',
      classical.publicKey.bytes(),
      i2osp(Date.parse(window.notBefore), 8),
      i2osp(Date.parse(window.notAfter), 8),
    );
    const signature = sign(null, bytes, privateKeyObject(orgKey)).toString('base64url');
    const verified = verifyDataKeyBundle(orgKey.publicKey, v1, signature);
    expect(verified.key.kind).toBe('x25519');
    expect('suite' in verified).toBe(false);
    expect(canonicalDataKeyBundle(v1).equals(bytes)).toBe(true);
  });

  it('signs the suite’s HPKE ids in v2: label, id, KEM/KDF/AEAD, key, window', () => {
    const expected = lengthPrefixed(
      'coffer/data-key-bundle/v2',
      'dk-pq',
      Buffer.from('647a00010002', 'hex'),
      hybrid.publicKey.bytes(),
      i2osp(Date.parse(window.notBefore), 8),
      i2osp(Date.parse(window.notAfter), 8),
    );
    expect(canonicalDataKeyBundle(v2).equals(expected)).toBe(true);
  });

  it('hands an xwing key only to a caller that accepts X-Wing; others get UnsupportedSuite', () => {
    const signature = signDataKeyBundle(orgKey, v2);
    const verified = verifyDataKeyBundle(orgKey.publicKey, v2, signature, both);
    expect(verified.key.kind).toBe('xwing');
    expect(verified.key.equals(hybrid.publicKey)).toBe(true);
    expect(verified.suite).toBe('xwing');
    expect(codeOf(() => verifyDataKeyBundle(orgKey.publicKey, v2, signature))).toBe('UnsupportedSuite');
    expect(codeOf(() => verifyDataKeyBundle(orgKey.publicKey, v2, signature, ['x25519']))).toBe('UnsupportedSuite');
  });

  it('refuses a suite added to, removed from or changed in a signed bundle', () => {
    const v1Signature = signDataKeyBundle(orgKey, v1);
    const explicit = { ...v1, suite: 'x25519' as const };
    const explicitSignature = signDataKeyBundle(orgKey, explicit);
    expect(codeOf(() => verifyDataKeyBundle(orgKey.publicKey, explicit, v1Signature))).toBe('BadSignature');
    expect(codeOf(() => verifyDataKeyBundle(orgKey.publicKey, v1, explicitSignature))).toBe('BadSignature');
    // An X25519 key relabelled as X-Wing (or the reverse) is not a key of that suite at all.
    expect(codeOf(() => canonicalDataKeyBundle({ ...v1, suite: 'xwing' }))).toBe('InvalidBundle');
    expect(codeOf(() => canonicalDataKeyBundle({ ...v2, suite: 'x25519' }))).toBe('InvalidBundle');
  });

  it('refuses a suite this build does not know (UnsupportedSuite), and a suite that is not a name', () => {
    expect(codeOf(() => canonicalDataKeyBundle({ ...v2, suite: 'mlkem1024-x448' }))).toBe('UnsupportedSuite');
    for (const suite of [5, '', null, ['xwing']]) {
      expect(codeOf(() => canonicalDataKeyBundle({ ...v2, suite }))).toBe('InvalidBundle');
    }
  });
});

describe('user certificates name their suite the same way', () => {
  const v1 = { id: 'u-1', role: 'viewer' as const, publicKey: classical.publicKey.toBase64url() };
  const v2 = {
    id: 'u-2',
    role: 'key-admin' as const,
    suite: 'xwing' as const,
    publicKey: hybrid.publicKey.toBase64url(),
  };

  it('verifies v1 as X25519 and v2 with its suite signed', () => {
    const bytes = lengthPrefixed('coffer/user-certificate/v1', 'u-1', 'viewer', classical.publicKey.bytes());
    expect(canonicalUserCertificate(v1).equals(bytes)).toBe(true);
    expect(verifyUserCertificate(orgKey.publicKey, v1, signUserCertificate(orgKey, v1)).key.kind).toBe('x25519');
    const signature = signUserCertificate(orgKey, v2);
    expect(verifyUserCertificate(orgKey.publicKey, v2, signature, both).key.equals(hybrid.publicKey)).toBe(true);
    expect(codeOf(() => verifyUserCertificate(orgKey.publicKey, v2, signature))).toBe('UnsupportedSuite');
    expect(codeOf(() => verifyUserCertificate(orgKey.publicKey, { ...v2, role: 'viewer' }, signature, both))).toBe(
      'BadSignature',
    );
  });

  it('keeps a certificate and a bundle apart: v2 labels differ too', () => {
    expect(canonicalUserCertificate(v2).subarray(2, 28).toString()).toBe('coffer/user-certificate/v2');
  });
});
