/**
 * Passkey ceremonies in the browser (@simplewebauthn/browser). The PRF extension is evaluated at
 * SHA-256("coffer/passkey-prf/v1"); its output goes to the admin plane only to derive the KEK of
 * the user key's passkey wrap, and is dropped from the response the vault verifies.
 */
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import { api, type User } from './api.ts';
import { Notice } from './ui.tsx';

export const passkeysSupported = (): boolean => typeof window.PublicKeyCredential === 'function';

async function prfSalt(): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode('coffer/passkey-prf/v1')));
}

function base64url(buffer: ArrayBuffer): string {
  let s = '';
  for (const b of new Uint8Array(buffer)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

interface AssertionOptions {
  challenge: string;
  rpId: string;
  allowCredentials?: { id: string; type: 'public-key'; transports?: string[] }[];
}

/** An assertion with the PRF evaluated; the output (base64url) apart, or null without PRF. */
async function assertWithPrf(options: AssertionOptions) {
  const salt = await prfSalt();
  const response = await startAuthentication({
    optionsJSON: {
      ...options,
      userVerification: 'required',
      timeout: 120_000,
      // A buffer, not JSON: the library passes extensions through to the browser as they are.
      extensions: { prf: { eval: { first: salt } } } as never,
    } as never,
  });
  const results = response.clientExtensionResults as { prf?: { results?: { first?: ArrayBuffer } } };
  const first = results.prf?.results?.first;
  return { response: { ...response, clientExtensionResults: {} }, prf: first ? base64url(first) : null };
}

export async function signInWithPasskey(): Promise<{ user: User; csrf: string }> {
  const start = await api<{ challengeId: string; options: AssertionOptions }>('POST', '/api/session/passkey/options');
  const { response, prf } = await assertWithPrf(start.options);
  if (!prf) throw new Notice('This passkey cannot unlock your key here: sign in with your password.');
  return api('POST', '/api/session/passkey', { challengeId: start.challengeId, assertion: response, prf });
}

export async function addPasskey(name: string, password: string): Promise<{ id: string; unlock: boolean }> {
  const start = await api<{
    creationChallengeId: string;
    options: Parameters<typeof startRegistration>[0]['optionsJSON'];
    assertion: { challengeId: string; challenge: string; rpId: string };
  }>('POST', '/api/me/passkeys/options', {});
  const registration = await startRegistration({ optionsJSON: start.options });
  // A second touch: the new credential's PRF output, which is what will unlock the key.
  const { response, prf } = await assertWithPrf({
    challenge: start.assertion.challenge,
    rpId: start.assertion.rpId,
    allowCredentials: [{ id: registration.id, type: 'public-key', transports: registration.response.transports ?? [] }],
  });
  return api('POST', '/api/me/passkeys', {
    name,
    password,
    creationChallengeId: start.creationChallengeId,
    assertionChallengeId: start.assertion.challengeId,
    registration: { ...registration, clientExtensionResults: {} },
    assertion: response,
    prf,
  });
}
