import { describe, expect, it } from 'vitest';
import { userKeyAad } from '../bindings.ts';
import { CryptoError } from '../errors.ts';
import { PrivateKey } from '../keys/keys.ts';
import { unwrapWithSymmetricKey, wrapWithSymmetricKey } from '../wrap/wrap.ts';
import {
  enrollPassword,
  isVerifierStale,
  PASSWORD_PARAMS_FLOOR,
  parseVerifier,
  unlockWithPassword,
} from './password.ts';

const password = 'quiet-harbour-lantern-91-orbit';

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
  } catch (err) {
    if (err instanceof CryptoError) return err.code;
    throw err;
  }
  return undefined;
}

describe('password verifier and KEK', async () => {
  const { verifier, kek } = await enrollPassword(password);
  const userKey = PrivateKey.generate('x25519');
  const aad = userKeyAad('user-1', 1);
  const wrapped = wrapWithSymmetricKey(userKey, kek, aad);

  it('writes a PHC string with the parameters beside the hash', () => {
    expect(verifier).toMatch(/^\$coffer-argon2id-hkdf\$v=19\$m=65536,t=3,p=4\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(parseVerifier(verifier).params).toEqual(PASSWORD_PARAMS_FLOOR);
  });

  it('unlocks with the right password to a KEK that opens the wrapped key', async () => {
    const unlocked = await unlockWithPassword(password, verifier);
    expect(unlocked.stale).toBe(false);
    expect(unwrapWithSymmetricKey('x25519', unlocked.kek, wrapped, aad).publicKey.equals(userKey.publicKey)).toBe(true);
  });

  it('accepts the same password in another Unicode normal form', async () => {
    const composed = await enrollPassword('pässwörd-is-long-enough');
    await expect(unlockWithPassword('pa\u0308sswo\u0308rd-is-long-enough', composed.verifier)).resolves.toBeDefined();
  });

  it('refuses a wrong password by name', async () => {
    expect(await codeOf(() => unlockWithPassword(`${password}!`, verifier))).toBe('WrongPassword');
  });

  it('uses a new salt each time, so two enrolments differ', async () => {
    const again = await enrollPassword(password);
    expect(again.verifier).not.toBe(verifier);
    expect(() => unwrapWithSymmetricKey('x25519', again.kek, wrapped, aad)).toThrow(CryptoError);
  });

  it('refuses parameters below RFC 9106’s second recommendation', async () => {
    for (const weak of [
      { memoryKiB: 32768, iterations: 3, parallelism: 4 },
      { memoryKiB: 65536, iterations: 2, parallelism: 4 },
      { memoryKiB: 65536, iterations: 3, parallelism: 1 },
    ]) {
      expect(await codeOf(() => enrollPassword(password, weak))).toBe('WeakParameters');
    }
    const weakVerifier = verifier.replace('t=3', 't=1');
    expect(await codeOf(() => unlockWithPassword(password, weakVerifier))).toBe('WeakParameters');
  });

  it('reports a verifier made with weaker parameters than the current ones as stale', async () => {
    const raised = { ...PASSWORD_PARAMS_FLOOR, iterations: 4 };
    expect(isVerifierStale(verifier, raised)).toBe(true);
    expect(isVerifierStale(verifier)).toBe(false);
    expect((await unlockWithPassword(password, verifier, raised)).stale).toBe(true);
  });

  it('names a malformed verifier', async () => {
    for (const bad of [
      '',
      '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA',
      verifier.slice(0, -2),
      verifier.replace('v=19', 'v=16'),
    ]) {
      expect(await codeOf(() => unlockWithPassword(password, bad))).toMatch(
        /Malformed|UnsupportedSuite|UnsupportedVersion/,
      );
    }
  });
});
