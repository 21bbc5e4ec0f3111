/**
 * What both passkey flows share: the vault's WebAuthn settings and its single-use challenges.
 * The vault holds the expected origin and RP ID itself, so a bus that rewrites a request cannot
 * make it accept an assertion made for another site.
 */
import { randomBytes } from 'node:crypto';
import { newRecordId } from '@coffer/protocol';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type postgres from 'postgres';
import { AdminError } from './router.ts';

export interface PasskeySettings {
  /** The portal's origin exactly as the browser reports it, e.g. https://admin.example.com */
  readonly origin: string;
  /** The WebAuthn relying party id: the origin's host name unless set. */
  readonly rpId: string;
  /**
   * COFFER_REQUIRE_PASSKEY_FOR_KEY_ADMINS: a key-admin's passkeys then change only from a passkey
   * session, so a phished password (and code) cannot enrol the phisher's authenticator.
   */
  readonly requireForKeyAdmins?: boolean;
}

const CHALLENGE_MS = 5 * 60 * 1000;

export function passkeysConfigured(settings: PasskeySettings | undefined): PasskeySettings {
  if (!settings) throw new AdminError('not-found', 'passkeys are not configured on this vault');
  return settings;
}

export async function issuePasskeyChallenge(
  sql: postgres.Sql,
  purpose: 'register' | 'signin',
  userId: string | null,
  now: Date,
): Promise<{ id: string; nonce: string }> {
  await sql`DELETE FROM passkey_challenges WHERE expires_at <= ${now}`;
  const challenge = { id: newRecordId(), nonce: randomBytes(32).toString('base64url') };
  await sql`INSERT INTO passkey_challenges (id, purpose, user_id, nonce, expires_at)
    VALUES (${challenge.id}, ${purpose}, ${userId}, ${challenge.nonce}, ${new Date(now.getTime() + CHALLENGE_MS)})`;
  return challenge;
}

/** Use a challenge up in its own statement, so that a refused response never gets a second try. */
export async function consumePasskeyChallenge(
  sql: postgres.Sql,
  id: string,
  purpose: 'register' | 'signin',
  userId: string | null,
  now: Date,
): Promise<string> {
  const [row] = await sql<{ nonce: string }[]>`UPDATE passkey_challenges SET used_at = ${now}
    WHERE id::text = ${id} AND purpose = ${purpose} AND used_at IS NULL AND expires_at > ${now}
      AND user_id IS NOT DISTINCT FROM ${userId}
    RETURNING nonce`;
  if (!row) throw new AdminError('unauthenticated', 'no such passkey challenge, or it was used or has expired');
  return row.nonce;
}

/** A WebAuthn response as JSON text, parsed; anything else is a refusal, never a crash. */
export function parseResponse<T extends RegistrationResponseJSON | AuthenticationResponseJSON>(text: string): T {
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string') return value as T;
  } catch {
    // falls through to the refusal
  }
  throw new AdminError('bad-request', 'not a WebAuthn response');
}
