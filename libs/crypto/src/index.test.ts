/**
 * What the package entry point hands out. Raw key bytes must not come back from any function
 * exported here; these are the reviewer's paths to them, each now refused by name.
 */
import { describe, expect, it } from 'vitest';
import * as api from './index.ts';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    if (err instanceof api.CryptoError) return err.code;
    throw err;
  }
  return undefined;
}

describe('package entry point', () => {
  it('exports none of the internal functions that touch raw key bytes', () => {
    for (const internal of [
      'exportPrivateBytes',
      'privateKeyObject',
      'symmetricKeyBytes',
      'symmetricKeyFromBytes',
      'sealBlob',
      'openBlob',
      'xwingDecapsulationKey',
      'expandDecapsulationKey',
    ]) {
      expect(Object.keys(api)).not.toContain(internal);
    }
  });

  it('offers no way to make a SymmetricKey from chosen bytes', () => {
    expect('adopt' in api.SymmetricKey).toBe(false);
  });

  it('does not open a wrapped private key as if it were a record', () => {
    const victim = api.PrivateKey.generate('ed25519');
    const me = api.PrivateKey.generate('x25519');
    for (const binding of [api.orgKeyWrapBinding('org', 'me'), api.dataKeyWrapBinding('dk-1', 'me')]) {
      const wrapped = api.wrapPrivateKey(victim, me.publicKey, binding);
      expect(codeOf(() => api.open(me, wrapped, binding))).toBe('WrongBinding');
      expect(codeOf(() => api.seal(me.publicKey, Buffer.alloc(33), binding))).toBe('WrongBinding');
      expect(api.unwrapPrivateKey('ed25519', me, wrapped, binding).publicKey.equals(victim.publicKey)).toBe(true);
    }
  });

  it('does not wrap a private key under a binding the public open accepts', () => {
    const victim = api.PrivateKey.generate('ed25519');
    const me = api.PrivateKey.generate('x25519');
    const record = api.recordBinding('r1', 'pan', 'dk-1');
    expect(codeOf(() => api.wrapPrivateKey(victim, me.publicKey, record))).toBe('WrongBinding');
    const sealed = api.seal(me.publicKey, Buffer.from('not a key'), record);
    expect(codeOf(() => api.unwrapPrivateKey('ed25519', me, sealed, record))).toBe('WrongBinding');
  });

  it('names the new error codes', () => {
    expect(api.CryptoErrorCode).toMatchObject({ InvalidParameters: 'InvalidParameters', WrongBinding: 'WrongBinding' });
  });
});
