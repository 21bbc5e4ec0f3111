import { describe, expect, it } from 'vitest';
import { codeOf } from '../../testing/error-codes.ts';
import { PrivateKey } from '../keys/keys.ts';
import { signUserCertificate, verifyUserCertificate } from './bundles.ts';
import { recipientPublicKey, recipientSuiteOf, userCertificateOf } from './user-certificate.ts';

const orgKey = PrivateKey.generate('ed25519');
const classical = PrivateKey.generate('x25519').publicKey.toBase64url();
const hybrid = PrivateKey.generate('xwing').publicKey.toBase64url();
const both = ['x25519', 'xwing'] as const;

describe("a person's stored key names its suite, and so does the certificate built from it", () => {
  it('reads the suite from the stored length: 43 characters X25519, 1,622 X-Wing, anything else refused', () => {
    expect(recipientSuiteOf(classical)).toBe('x25519');
    expect(recipientSuiteOf(hybrid)).toBe('xwing');
    expect(recipientPublicKey(hybrid).kind).toBe('xwing');
    expect(codeOf(() => recipientSuiteOf(hybrid.slice(1)))).toBe('InvalidKey');
    expect(codeOf(() => recipientSuiteOf(`${classical}A`))).toBe('InvalidKey');
    // A caller that can use X25519 alone is told so, never handed the key as another kind.
    expect(codeOf(() => recipientPublicKey(hybrid, ['x25519']))).toBe('UnsupportedSuite');
  });

  it('an X25519 person keeps the v1 certificate; an X-Wing one gets v2 naming xwing', () => {
    expect(userCertificateOf({ id: 'u1', role: 'viewer', publicKey: classical })).toEqual({
      id: 'u1',
      role: 'viewer',
      publicKey: classical,
    });
    const cert = userCertificateOf({ id: 'u2', role: 'recovery', publicKey: hybrid });
    expect(cert).toEqual({ id: 'u2', role: 'recovery', suite: 'xwing', publicKey: hybrid });
    const signature = signUserCertificate(orgKey, cert);
    expect(verifyUserCertificate(orgKey.publicKey, cert, signature, both).key.kind).toBe('xwing');
  });

  it('a downgraded X-Wing certificate is refused: relabelled, stripped of its suite, or read by an X25519-only client', () => {
    const cert = userCertificateOf({ id: 'u3', role: 'key-admin', publicKey: hybrid });
    const signature = signUserCertificate(orgKey, cert);
    const { suite: _, ...stripped } = cert;
    expect(codeOf(() => verifyUserCertificate(orgKey.publicKey, stripped, signature, both))).toBe('InvalidBundle');
    expect(codeOf(() => verifyUserCertificate(orgKey.publicKey, { ...cert, suite: 'x25519' }, signature, both))).toBe(
      'InvalidBundle',
    );
    expect(codeOf(() => verifyUserCertificate(orgKey.publicKey, cert, signature))).toBe('UnsupportedSuite');
    // An X25519 key in its place keeps no signature: the suite and key are both signed.
    const swapped = userCertificateOf({ id: 'u3', role: 'key-admin', publicKey: classical });
    expect(codeOf(() => verifyUserCertificate(orgKey.publicKey, swapped, signature, both))).toBe('BadSignature');
  });
});
