import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { failureOf } from '../../testing/error-codes.ts';
import { userKeyAad } from '../bindings.ts';
import { CryptoError } from '../errors.ts';
import { PrivateKey } from '../keys/keys.ts';
import { unwrapWithSymmetricKey, wrapWithSymmetricKey } from '../wrap/wrap.ts';
import {
  checkPasswordProof,
  enrollPassword,
  isVerifierStale,
  PASSWORD_PARAMS_CEILING,
  PASSWORD_PARAMS_FLOOR,
  parseVerifier,
  signPasswordProof,
  unlockWithPassword,
} from './password.ts';

const password = 'quiet-harbour-lantern-91-orbit';

const codeOf = async (run: () => Promise<unknown>) => (await failureOf(run))?.code;

describe('password verifier and KEK', async () => {
  const { verifier, kek } = await enrollPassword(password);
  const userKey = PrivateKey.generate('x25519');
  const aad = userKeyAad('user-1', 1);
  const wrapped = wrapWithSymmetricKey(userKey, kek, aad);

  it('writes a PHC string with the parameters beside the hash', () => {
    expect(verifier).toMatch(
      /^\$coffer-argon2id-ed25519\$v=19\$m=65536,t=3,p=4\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
    );
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

  it('refuses parameters above the ceiling, from the caller or from a stored verifier', async () => {
    // Parallelism first: before the ceiling existed it was the cheap one to run.
    for (const high of [
      { memoryKiB: 65536, iterations: 3, parallelism: 17 },
      { memoryKiB: 65536, iterations: 11, parallelism: 4 },
      { memoryKiB: 1048577, iterations: 3, parallelism: 4 },
      { memoryKiB: 65536, iterations: 3.5, parallelism: 4 },
    ]) {
      expect(await codeOf(() => enrollPassword(password, high)), JSON.stringify(high)).toBe('InvalidParameters');
    }
    // A verifier is data from the database: argon2 never runs with what it asks for above the ceiling.
    for (const stored of ['m=65536,t=11,p=4', 'm=65536,t=4294967295,p=4', 'm=4194304,t=3,p=4', 'm=65536,t=3,p=64']) {
      const high = verifier.replace('m=65536,t=3,p=4', stored);
      expect(await codeOf(async () => parseVerifier(high)), stored).toBe('InvalidParameters');
      expect(await codeOf(() => unlockWithPassword(password, high)), stored).toBe('InvalidParameters');
    }
    expect(PASSWORD_PARAMS_CEILING).toEqual({ memoryKiB: 1048576, iterations: 10, parallelism: 16 });
    const top = await enrollPassword(password, { ...PASSWORD_PARAMS_CEILING, memoryKiB: 65536 });
    expect(parseVerifier(top.verifier).params.iterations).toBe(10);
  });

  it('reads only the canonical spelling of a verifier', async () => {
    const [, , , , salt, hash] = verifier.split('$') as string[];
    // The last base64 character of a 16- or 32-byte value carries bits that decoding ignores.
    const bumpLast = (b64: string) => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
      const last = alphabet.indexOf(b64.at(-1) as string);
      return b64.slice(0, -1) + alphabet[last ^ 1];
    };
    for (const bad of [
      verifier.replace('m=65536', 'm=00065536'),
      verifier.replace('t=3', 't=03'),
      verifier.replace('p=4', 'p=04'),
      verifier.replace('v=19', 'v=019'),
      verifier.replace(`$${salt}$`, `$${bumpLast(salt as string)}$`),
      verifier.replace(`$${hash}`, `$${bumpLast(hash as string)}`),
      `${verifier}=`,
    ]) {
      expect(await codeOf(async () => parseVerifier(bad)), bad).toBe('Malformed');
    }
  });

  it('refuses a password that is not well-formed Unicode, which would be hashed as U+FFFD', async () => {
    expect(await codeOf(() => enrollPassword('pass\uD800word-long'))).toBe('Malformed');
    expect(await codeOf(() => unlockWithPassword('pass\uDFFFword-long', verifier))).toBe('Malformed');
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

  it('proves the password to a verifier with a signature bound to one challenge and context', async () => {
    const unlocked = await unlockWithPassword(password, verifier);
    const challenge = { id: 'c-1', nonce: 'bm9uY2U' };
    const proof = signPasswordProof(unlocked.authKey, challenge, ['user-1', 'session-hash']);
    expect(checkPasswordProof(verifier, challenge, ['user-1', 'session-hash'], proof)).toBe(true);
    // Another challenge, context or password: refused.
    expect(checkPasswordProof(verifier, { ...challenge, id: 'c-2' }, ['user-1', 'session-hash'], proof)).toBe(false);
    expect(checkPasswordProof(verifier, challenge, ['user-1', 'other-session'], proof)).toBe(false);
    const other = await enrollPassword(password);
    expect(checkPasswordProof(other.verifier, challenge, ['user-1', 'session-hash'], proof)).toBe(false);
    expect(checkPasswordProof(verifier, challenge, ['user-1', 'session-hash'], 'not a signature')).toBe(false);
    // The verifier holds only the public half.
    expect(inspect(unlocked.authKey)).toContain('private key');
  });
});
