import { createHash, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isCryptoError } from '../errors.ts';
import { symmetricKeyBytes } from '../keys/symmetric-key.ts';
import { derivePasskeyKek, passkeyKeyAad, passkeyPrfSalt, passkeySigninChallenge } from './passkey.ts';

describe('passkey key derivation', () => {
  const prf = Buffer.alloc(32, 7);

  it('derives the KEK as HKDF-SHA256(PRF output, salt = credential id, info coffer/passkey-kek/v1)', () => {
    const expected = Buffer.from(hkdfSync('sha256', prf, 'cred-1', 'coffer/passkey-kek/v1', 32));
    expect(symmetricKeyBytes(derivePasskeyKek(prf, 'cred-1')).equals(expected)).toBe(true);
    expect(symmetricKeyBytes(derivePasskeyKek(prf, 'cred-2')).equals(expected)).toBe(false);
  });

  it('refuses a PRF output that is not 32 bytes', () => {
    let err: unknown;
    try {
      derivePasskeyKek(Buffer.alloc(16), 'cred-1');
    } catch (e) {
      err = e;
    }
    expect(isCryptoError(err, 'Malformed')).toBe(true);
  });

  it('evaluates the PRF at SHA-256 of its versioned label', () => {
    expect(passkeyPrfSalt().toString('hex')).toBe(createHash('sha256').update('coffer/passkey-prf/v1').digest('hex'));
  });

  // Fixed answers: the formats are versioned, so these values never change.
  it('binds the sign-in challenge to the nonce and the session hash (known answer)', () => {
    const hash = 'a'.repeat(64);
    expect(passkeySigninChallenge('nonce-1', hash)).toBe(KNOWN_CHALLENGE);
    expect(passkeySigninChallenge('nonce-1', 'b'.repeat(64))).not.toBe(KNOWN_CHALLENGE);
    expect(passkeySigninChallenge('nonce-2', hash)).not.toBe(KNOWN_CHALLENGE);
    expect(passkeyKeyAad('u', 1, 'c').toString('hex')).toBe(KNOWN_AAD);
  });
});

const KNOWN_CHALLENGE = 'JsyXp1zBvZXmqECIIn4jc9Pu10xte6aIK-X1YPIK_wc';
// 0x0015 "coffer/passkey-key/v1" 0x0001 "u" 0x0001 "1" 0x0001 "c"
const KNOWN_AAD = '0015636f666665722f706173736b65792d6b65792f7631000175000131000163';
