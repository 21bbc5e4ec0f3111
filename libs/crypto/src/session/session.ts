/**
 * Session tokens and session keys. The token (32 random bytes, base64url) is held by the browser;
 * the server stores only SHA-256 of it, and the key that wraps the user's private key for the
 * session is HKDF-SHA256(token, salt = session id, info "coffer/session/v1"). So a copy of the
 * database (or a backup) cannot unwrap session-wrapped keys. The live admin host does see the token
 * on each request and can derive the key while the session lasts: this protects data at rest, not
 * against a compromised running server.
 */
import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { fromBase64url, utf8, wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { type SymmetricKey, symmetricKeyFromBytes } from '../keys/symmetric-key.ts';

const TOKEN_LENGTH = 32;

export function createSessionToken(): string {
  return randomBytes(TOKEN_LENGTH).toString('base64url');
}

function tokenBytes(token: string): Buffer {
  try {
    return fromBase64url(token, TOKEN_LENGTH);
  } catch {
    throw new CryptoError('Malformed', 'not a session token');
  }
}

/** Hex SHA-256 of the token's bytes: what the vault stores and looks sessions up by. */
export function sessionTokenHash(token: string): string {
  const bytes = tokenBytes(token);
  try {
    return createHash('sha256').update(bytes).digest('hex');
  } finally {
    wipe(bytes);
  }
}

export function deriveSessionKey(token: string, sessionId: string): SymmetricKey {
  const bytes = tokenBytes(token);
  let key: Buffer | undefined;
  try {
    key = Buffer.from(hkdfSync('sha256', bytes, utf8(sessionId), 'coffer/session/v1', 32));
    return symmetricKeyFromBytes(key);
  } finally {
    wipe(bytes, key);
  }
}

/**
 * The CSRF value for a session: HKDF-SHA256(token, info "coffer/csrf/v1"), base64url. Derived, so
 * nothing extra is stored; one-way, so the header never reveals the cookie.
 */
export function deriveCsrfToken(token: string): string {
  const bytes = tokenBytes(token);
  try {
    return Buffer.from(hkdfSync('sha256', bytes, Buffer.alloc(0), 'coffer/csrf/v1', 32)).toString('base64url');
  } finally {
    wipe(bytes);
  }
}

/** Constant-time check of a presented CSRF value against the session's. */
export function csrfMatches(token: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(deriveCsrfToken(token));
  const given = Buffer.from(presented);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
