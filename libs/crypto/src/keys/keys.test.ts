import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dataKeyWrapBinding, recordBinding } from '../bindings.ts';
import { open, seal } from '../blob/sealed-blob.ts';
import { isCryptoError } from '../errors.ts';
import { signDataKeyBundle } from '../signature/bundles.ts';
import { unwrapPrivateKey, wrapPrivateKey } from '../wrap/wrap.ts';
import { exportPrivateBytes, PrivateKey, PublicKey } from './keys.ts';
import { SymmetricKey, symmetricKeyBytes, symmetricKeyFromBytes } from './symmetric-key.ts';

describe.each(['x25519', 'ed25519'] as const)('%s private key', (kind) => {
  const key = PrivateKey.generate(kind);
  const raw = exportPrivateBytes(key);
  const secretForms = [raw.toString('hex'), raw.toString('base64'), raw.toString('base64url')];

  function assertNoSecret(text: string): void {
    for (const form of secretForms) expect(text).not.toContain(form);
    expect(text).toContain('private key');
  }

  it('does not leak through JSON, inspect, template strings or concatenation', () => {
    assertNoSecret(JSON.stringify({ key }));
    assertNoSecret(inspect(key, { showHidden: true, depth: 10 }));
    assertNoSecret(inspect({ nested: { key } }, { showHidden: true }));
    assertNoSecret(`${key}`);
    assertNoSecret(`value: ${String(key)}`);
    // biome-ignore lint/style/useTemplate: concatenation is the case under test
    assertNoSecret('key=' + key);
    expect(Object.keys(key)).not.toContain('keyObject');
  });

  it('imports its own raw bytes back to the same public key', () => {
    const again = PrivateKey.fromBytes(kind, raw);
    expect(again.publicKey.equals(key.publicKey)).toBe(true);
  });

  it('refuses key bytes of the wrong length by name', () => {
    expect(() => PrivateKey.fromBytes(kind, raw.subarray(1))).toThrow(expect.objectContaining({ code: 'InvalidKey' }));
  });
});

describe('public key', () => {
  it('round-trips through base64url and keeps its kind', () => {
    const pub = PrivateKey.generate('x25519').publicKey;
    const again = PublicKey.fromBase64url('x25519', pub.toBase64url());
    expect(again.equals(pub)).toBe(true);
    expect(again.equals(PublicKey.fromBytes('ed25519', PrivateKey.generate('ed25519').publicKey.bytes()))).toBe(false);
  });

  it('rejects non-canonical or wrong-length base64url', () => {
    const text = PrivateKey.generate('x25519').publicKey.toBase64url();
    for (const bad of [`${text}A`, text.slice(1), `${text.slice(0, -1)}=`, '']) {
      let err: unknown;
      try {
        PublicKey.fromBase64url('x25519', bad);
      } catch (e) {
        err = e;
      }
      expect(isCryptoError(err, 'Malformed')).toBe(true);
    }
  });

  it('has a fingerprint of six five-digit groups, fixed for a fixed key', () => {
    const pub = PublicKey.fromBytes('x25519', Buffer.alloc(32, 9));
    expect(pub.fingerprint()).toMatch(/^\d{5}( \d{5}){5}$/);
    // Pinned so the algorithm cannot change unnoticed: people compare these aloud.
    expect(pub.fingerprint()).toBe('97781 84826 95703 04398 77651 95822');
    expect(pub.fingerprint()).not.toBe(PublicKey.fromBytes('ed25519', pub.bytes()).fingerprint());
    expect(pub.fingerprint()).not.toBe(PublicKey.fromBytes('x25519', Buffer.alloc(32, 8)).fingerprint());
  });
});

describe('symmetric key', () => {
  it('prints redacted', () => {
    const bytes = Buffer.alloc(32, 0xab);
    const key = symmetricKeyFromBytes(Buffer.from(bytes));
    for (const text of [JSON.stringify({ key }), inspect(key, { showHidden: true }), `${key}`]) {
      expect(text).not.toContain('abab');
      expect(text).not.toContain(bytes.toString('base64'));
    }
  });

  it('has no public way in: the class offers no static constructor', () => {
    expect(Object.getOwnPropertyNames(SymmetricKey).sort()).toEqual(['length', 'name', 'prototype']);
  });

  it('keeps its own copy: the caller’s buffer is neither aliased nor wiped by destroy()', () => {
    const mine = Buffer.alloc(32, 1);
    const key = symmetricKeyFromBytes(mine);
    mine.fill(2);
    expect(symmetricKeyBytes(key).equals(Buffer.alloc(32, 1))).toBe(true);
    key.destroy();
    expect(mine.equals(Buffer.alloc(32, 2))).toBe(true);
    expect(symmetricKeyBytes(key).equals(Buffer.alloc(32))).toBe(true);
  });

  it('refuses key bytes of the wrong length by name', () => {
    let err: unknown;
    try {
      symmetricKeyFromBytes(Buffer.alloc(31));
    } catch (e) {
      err = e;
    }
    expect(isCryptoError(err, 'InvalidKey')).toBe(true);
  });
});

describe('a destroyed private key', () => {
  const refused = (use: () => unknown) => {
    let err: unknown;
    try {
      use();
    } catch (e) {
      err = e;
    }
    return isCryptoError(err, 'InvalidKey');
  };

  it.each(['x25519', 'xwing'] as const)('%s: no longer opens, unwraps or exports', (kind) => {
    const key = PrivateKey.generate(kind);
    const binding = recordBinding('r', 'secret', 'dk');
    const blob = seal(key.publicKey, Buffer.from('x'), binding);
    expect(open(key, blob, binding).toString()).toBe('x');
    const wrapped = wrapPrivateKey(PrivateKey.generate('x25519'), key.publicKey, dataKeyWrapBinding('dk', 'u'));
    key.destroy();
    expect(refused(() => open(key, blob, binding))).toBe(true);
    expect(refused(() => unwrapPrivateKey('x25519', key, wrapped, dataKeyWrapBinding('dk', 'u')))).toBe(true);
    expect(refused(() => exportPrivateBytes(key))).toBe(true);
    const to = PrivateKey.generate('x25519').publicKey;
    expect(refused(() => wrapPrivateKey(key, to, dataKeyWrapBinding('dk', 'v')))).toBe(true);
  });

  it('ed25519: no longer signs', () => {
    const key = PrivateKey.generate('ed25519');
    const bundle = { id: 'dk', publicKey: PrivateKey.generate('x25519').publicKey.toBase64url(), notBefore, notAfter };
    expect(signDataKeyBundle(key, bundle).length).toBeGreaterThan(0);
    key.destroy();
    expect(refused(() => signDataKeyBundle(key, bundle))).toBe(true);
    expect(refused(() => exportPrivateBytes(key))).toBe(true);
  });
});

const notBefore = '2026-01-01T00:00:00.000Z';
const notAfter = '2026-02-01T00:00:00.000Z';
