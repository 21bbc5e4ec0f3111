import { createHash, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isCryptoError } from '../errors.ts';
import { symmetricKeyBytes } from '../keys/symmetric-key.ts';
import { createSessionToken, csrfMatches, deriveCsrfToken, deriveSessionKey, sessionTokenHash } from './session.ts';

describe('session tokens', () => {
  it('are 32 random bytes in base64url', () => {
    const tokens = new Set(Array.from({ length: 100 }, createSessionToken));
    expect(tokens.size).toBe(100);
    for (const t of tokens) expect(Buffer.from(t, 'base64url').length).toBe(32);
  });

  it('are stored as SHA-256 of their bytes', () => {
    const token = createSessionToken();
    expect(sessionTokenHash(token)).toBe(createHash('sha256').update(Buffer.from(token, 'base64url')).digest('hex'));
  });

  it('derive the session key as HKDF-SHA256(token, salt = session id, info coffer/session/v1)', () => {
    const token = createSessionToken();
    const expected = Buffer.from(hkdfSync('sha256', Buffer.from(token, 'base64url'), 'sid-1', 'coffer/session/v1', 32));
    expect(symmetricKeyBytes(deriveSessionKey(token, 'sid-1')).equals(expected)).toBe(true);
    expect(symmetricKeyBytes(deriveSessionKey(token, 'sid-2')).equals(expected)).toBe(false);
  });

  it('refuse a session id that is not well-formed Unicode, which would salt as U+FFFD', () => {
    let err: unknown;
    try {
      deriveSessionKey(createSessionToken(), 'sid-\uD800');
    } catch (e) {
      err = e;
    }
    expect(isCryptoError(err, 'Malformed')).toBe(true);
  });

  it('refuse anything that is not a 32-byte base64url token', () => {
    for (const bad of ['', 'abc', `${createSessionToken()}A`, 'a'.repeat(43).replace(/a$/, '!')]) {
      let err: unknown;
      try {
        sessionTokenHash(bad);
      } catch (e) {
        err = e;
      }
      expect(isCryptoError(err, 'Malformed')).toBe(true);
    }
  });
});

describe('CSRF values', () => {
  it('are HKDF-SHA256(token, info coffer/csrf/v1), not the token, and checked in constant time', () => {
    const token = createSessionToken();
    const csrf = deriveCsrfToken(token);
    const expected = Buffer.from(
      hkdfSync('sha256', Buffer.from(token, 'base64url'), Buffer.alloc(0), 'coffer/csrf/v1', 32),
    );
    expect(csrf).toBe(expected.toString('base64url'));
    expect(csrf).not.toBe(token);
    expect(csrfMatches(token, csrf)).toBe(true);
    expect(csrfMatches(token, undefined)).toBe(false);
    expect(csrfMatches(token, deriveCsrfToken(createSessionToken()))).toBe(false);
    expect(csrfMatches(token, csrf.slice(1))).toBe(false);
  });
});
