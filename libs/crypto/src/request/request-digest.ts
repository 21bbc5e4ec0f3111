/**
 * A digest of an admin↔vault request body, for a password proof to sign (issue 9, item 2): the
 * proof then covers every field the admin plane sent — a `rehash`, a `totpStep`, the wrapped key —
 * so a hostile bus that adds, drops or changes any of them breaks the proof.
 *
 * Format v1 (docs/crypto.md): SHA-256 over
 *   lengthPrefixed("coffer/admin-request/v1", operation) || canonical JSON of the body without `proof`
 * Canonical JSON: object keys sorted by UTF-16 code unit, no whitespace, `undefined` members left
 * out (as JSON.stringify leaves them out), arrays in order. The vault computes it over the JSON it
 * received, the admin plane over the object it sends: both sides agree on every JSON value.
 */
import { createHash } from 'node:crypto';
import { lengthPrefixed } from '../bytes.ts';
import { CryptoError } from '../errors.ts';

export const ADMIN_REQUEST_DIGEST_LABEL = 'coffer/admin-request/v1';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CryptoError('Malformed', 'not a JSON number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new CryptoError('Malformed', 'not a JSON value');
}

/** Hex SHA-256 of the request `body` for `operation`, its `proof` member left out. */
export function adminRequestDigest(operation: string, body: Record<string, unknown>): string {
  const { proof: _proof, ...rest } = body;
  return createHash('sha256')
    .update(lengthPrefixed(ADMIN_REQUEST_DIGEST_LABEL, operation))
    .update(canonicalJson(rest))
    .digest('hex');
}
