import { describe, expect, it } from 'vitest';
import { codeOf } from '../../testing/error-codes.ts';
import { dataKeyWrapBinding, orgKeyWrapBinding, recordBinding, sessionKeyAad, userKeyAad } from '../bindings.ts';
import type { CryptoErrorCode } from '../errors.ts';
import { PrivateKey } from '../keys/keys.ts';
import { createSessionToken, deriveSessionKey } from '../session/session.ts';
import { unwrapPrivateKey, unwrapWithSymmetricKey, wrapPrivateKey, wrapWithSymmetricKey } from './wrap.ts';

describe('wrap to a public key', () => {
  const dataKey = PrivateKey.generate('x25519');
  const alice = PrivateKey.generate('x25519');
  const bob = PrivateKey.generate('x25519');
  const binding = dataKeyWrapBinding('dk-1', 'user-alice');
  const wrapped = wrapPrivateKey(dataKey, alice.publicKey, binding);

  it('unwraps to the same key for the intended recipient and binding', () => {
    const back = unwrapPrivateKey('x25519', alice, wrapped, binding);
    expect(back.publicKey.equals(dataKey.publicKey)).toBe(true);
  });

  it('wraps the Ed25519 org key too', () => {
    const orgKey = PrivateKey.generate('ed25519');
    const b = orgKeyWrapBinding('org', 'recovery');
    const back = unwrapPrivateKey('ed25519', alice, wrapPrivateKey(orgKey, alice.publicKey, b), b);
    expect(back.publicKey.equals(orgKey.publicKey)).toBe(true);
  });

  it('names every failure', () => {
    expect(codeOf(() => unwrapPrivateKey('x25519', bob, wrapped, binding))).toBe('DecryptionFailed');
    expect(codeOf(() => unwrapPrivateKey('x25519', alice, wrapped, dataKeyWrapBinding('dk-1', 'user-bob')))).toBe(
      'DecryptionFailed',
    );
    expect(codeOf(() => unwrapPrivateKey('x25519', alice, wrapped, dataKeyWrapBinding('dk-2', 'user-alice')))).toBe(
      'DecryptionFailed',
    );
    expect(codeOf(() => unwrapPrivateKey('x25519', alice, wrapped, orgKeyWrapBinding('dk-1', 'user-alice')))).toBe(
      'DecryptionFailed',
    );
    expect(codeOf(() => unwrapPrivateKey('ed25519', alice, wrapped, binding))).toBe('WrongKeyKind');
  });

  it('wraps only under wrapped-key bindings, which the public open refuses', () => {
    expect(codeOf(() => wrapPrivateKey(dataKey, alice.publicKey, recordBinding('r', 'pan', 'dk-1')))).toBe(
      'WrongBinding',
    );
    expect(codeOf(() => unwrapPrivateKey('x25519', alice, wrapped, recordBinding('r', 'pan', 'dk-1')))).toBe(
      'WrongBinding',
    );
  });

  it('refuses a recipient or identity that is not X25519 by name', () => {
    const ed = PrivateKey.generate('ed25519') as unknown as PrivateKey<'x25519'>;
    expect(codeOf(() => wrapPrivateKey(dataKey, ed.publicKey, binding))).toBe('InvalidKey');
    expect(codeOf(() => unwrapPrivateKey('x25519', ed, wrapped, binding))).toBe('InvalidKey');
  });
});

describe('wrap under a symmetric key', () => {
  const userKey = PrivateKey.generate('x25519');
  const token = createSessionToken();
  const sessionKey = deriveSessionKey(token, 'session-1');
  const aad = sessionKeyAad('session-1', 'user-1');
  const wrapped = wrapWithSymmetricKey(userKey, sessionKey, aad);

  it('unwraps with the same token, session and user', () => {
    const again = deriveSessionKey(token, 'session-1');
    expect(unwrapWithSymmetricKey('x25519', again, wrapped, aad).publicKey.equals(userKey.publicKey)).toBe(true);
  });

  it('uses a fresh nonce each time', () => {
    expect(wrapWithSymmetricKey(userKey, sessionKey, aad).equals(wrapped)).toBe(false);
  });

  it('names every failure', () => {
    const flip = (i: number) => {
      const b = Buffer.from(wrapped);
      b[i] = (b[i] as number) ^ 1;
      return b;
    };
    const cases: [string, () => unknown, CryptoErrorCode][] = [
      [
        'another token',
        () => unwrapWithSymmetricKey('x25519', deriveSessionKey(createSessionToken(), 'session-1'), wrapped, aad),
        'DecryptionFailed',
      ],
      [
        'another session id',
        () => unwrapWithSymmetricKey('x25519', deriveSessionKey(token, 'session-2'), wrapped, aad),
        'DecryptionFailed',
      ],
      [
        'aad of another user',
        () => unwrapWithSymmetricKey('x25519', sessionKey, wrapped, sessionKeyAad('session-1', 'user-2')),
        'DecryptionFailed',
      ],
      [
        'aad of the KEK wrap',
        () => unwrapWithSymmetricKey('x25519', sessionKey, wrapped, userKeyAad('user-1', 1)),
        'DecryptionFailed',
      ],
      ['flipped nonce', () => unwrapWithSymmetricKey('x25519', sessionKey, flip(5), aad), 'DecryptionFailed'],
      ['flipped ciphertext', () => unwrapWithSymmetricKey('x25519', sessionKey, flip(20), aad), 'DecryptionFailed'],
      [
        'flipped tag',
        () => unwrapWithSymmetricKey('x25519', sessionKey, flip(wrapped.length - 1), aad),
        'DecryptionFailed',
      ],
      [
        'version 2',
        () => unwrapWithSymmetricKey('x25519', sessionKey, Buffer.concat([Buffer.of(2), wrapped.subarray(1)]), aad),
        'UnsupportedVersion',
      ],
      [
        'another AEAD id',
        () =>
          unwrapWithSymmetricKey('x25519', sessionKey, Buffer.concat([Buffer.of(1, 0, 1), wrapped.subarray(3)]), aad),
        'UnsupportedSuite',
      ],
      ['truncated', () => unwrapWithSymmetricKey('x25519', sessionKey, wrapped.subarray(0, -1), aad), 'Truncated'],
      ['empty', () => unwrapWithSymmetricKey('x25519', sessionKey, Buffer.alloc(0), aad), 'Truncated'],
      [
        'trailing byte',
        () => unwrapWithSymmetricKey('x25519', sessionKey, Buffer.concat([wrapped, Buffer.of(0)]), aad),
        'Malformed',
      ],
      ['wrong kind', () => unwrapWithSymmetricKey('ed25519', sessionKey, wrapped, aad), 'WrongKeyKind'],
    ];
    for (const [name, run, code] of cases) expect(codeOf(run), name).toBe(code);
  });

  it('a destroyed key no longer unwraps', () => {
    const key = deriveSessionKey(token, 'session-1');
    key.destroy();
    expect(codeOf(() => unwrapWithSymmetricKey('x25519', key, wrapped, aad))).toBe('DecryptionFailed');
  });
});
