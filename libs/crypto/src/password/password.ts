/**
 * Passwords: one argon2id call, split by HKDF-SHA256 into a verifier key and the KEK (the pattern
 * Bitwarden uses). The stored verifier holds only SHA-256 of the verifier key, and HKDF's outputs
 * under distinct labels are independent, so a verifier from a database dump gives no KEK; guessing
 * the password costs one argon2id call either way. Against two argon2id calls (separate salts) it
 * halves sign-in time at equal brute-force cost — docs/benchmarks.md has the measurement.
 *
 * Verifier, a PHC string (its own function id, since the hash field is not argon2's raw output):
 *   $coffer-argon2id-hkdf$v=19$m=65536,t=3,p=4$<salt>$<SHA-256(verifier key)>
 */
import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import argon2 from 'argon2';
import { fromBase64url, isWellFormed, utf8, wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { type SymmetricKey, symmetricKeyFromBytes } from '../keys/symmetric-key.ts';

export interface PasswordParams {
  /** argon2id memory in KiB. */
  readonly memoryKiB: number;
  readonly iterations: number;
  readonly parallelism: number;
}

/** RFC 9106 §4, second recommended option: the floor this build accepts and its default. */
export const PASSWORD_PARAMS_FLOOR: PasswordParams = { memoryKiB: 65536, iterations: 3, parallelism: 4 };

/**
 * The most this build runs argon2id with. The parameters of a stored verifier are data: without a
 * ceiling, one edited row (t = 2^32 - 1, m = 4 GiB) makes every sign-in of that user hang the
 * server or exhaust its memory. 1 GiB, 10 passes and 16 lanes leave ample room above the floor
 * for stronger hardware while keeping the worst sign-in bounded.
 */
export const PASSWORD_PARAMS_CEILING: PasswordParams = { memoryKiB: 1048576, iterations: 10, parallelism: 16 };

const FUNCTION_ID = 'coffer-argon2id-hkdf';
const ARGON2_VERSION = 19;
const SALT_LENGTH = 16;
const MASTER_LENGTH = 32;
// Numbers without leading zeros and unpadded base64: a verifier is read only in the one spelling
// enrollPassword writes, so a stored row has exactly one meaning.
const PHC_PATTERN =
  /^\$([a-z0-9-]+)\$v=(0|[1-9]\d*)\$m=(0|[1-9]\d*),t=(0|[1-9]\d*),p=(0|[1-9]\d*)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export interface ParsedVerifier {
  readonly params: PasswordParams;
  readonly salt: Buffer;
  readonly verifierHash: Buffer;
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/=+$/, '');
}

/** Decode unpadded base64 and refuse any spelling b64() would not write (e.g. stray low bits). */
function fromB64(text: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  if (b64(bytes) !== text) throw new CryptoError('Malformed', 'non-canonical base64 in verifier');
  return bytes;
}

export function parseVerifier(verifier: string): ParsedVerifier {
  const m = PHC_PATTERN.exec(verifier);
  if (!m) throw new CryptoError('Malformed', 'not a Coffer password verifier');
  const [, id, version, mem, t, p, salt, hash] = m as unknown as string[];
  if (id !== FUNCTION_ID) throw new CryptoError('UnsupportedSuite', 'unknown password function');
  if (Number(version) !== ARGON2_VERSION) throw new CryptoError('UnsupportedVersion', 'unknown argon2 version');
  const parsed = {
    params: { memoryKiB: Number(mem), iterations: Number(t), parallelism: Number(p) },
    salt: fromB64(salt as string),
    verifierHash: fromB64(hash as string),
  };
  if (parsed.salt.length !== SALT_LENGTH || parsed.verifierHash.length !== 32) {
    throw new CryptoError('Malformed', 'verifier salt or hash has the wrong length');
  }
  // Checked here, not only before hashing, so nothing that reads a verifier acts on such values.
  assertWithinCeiling(parsed.params);
  return parsed;
}

function assertWithinCeiling(params: PasswordParams): void {
  const ceiling = PASSWORD_PARAMS_CEILING;
  if (
    !Number.isSafeInteger(params.memoryKiB) ||
    !Number.isSafeInteger(params.iterations) ||
    !Number.isSafeInteger(params.parallelism) ||
    params.memoryKiB > ceiling.memoryKiB ||
    params.iterations > ceiling.iterations ||
    params.parallelism > ceiling.parallelism
  ) {
    throw new CryptoError('InvalidParameters', 'argon2id parameters are above the accepted ceiling');
  }
}

function assertStrongEnough(params: PasswordParams): void {
  assertWithinCeiling(params);
  const floor = PASSWORD_PARAMS_FLOOR;
  if (
    params.memoryKiB < floor.memoryKiB ||
    params.iterations < floor.iterations ||
    params.parallelism < floor.parallelism
  ) {
    throw new CryptoError('WeakParameters', 'argon2id parameters are below the accepted floor');
  }
}

/** argon2id(password) → (SHA-256 of verifier key, KEK). The master secret is wiped here. */
async function derive(
  password: string,
  salt: Buffer,
  params: PasswordParams,
): Promise<{ verifierHash: Buffer; proof: string; kek: SymmetricKey }> {
  // Unpaired surrogates would all hash as U+FFFD: two different passwords would unlock alike.
  if (!isWellFormed(password)) throw new CryptoError('Malformed', 'password is not well-formed Unicode');
  // NFC so that the same password typed on different systems gives the same bytes (RFC 8265).
  const secret = utf8(password.normalize('NFC'));
  let master: Buffer | undefined;
  try {
    master = await argon2.hash(secret, {
      type: argon2.argon2id,
      raw: true,
      salt,
      hashLength: MASTER_LENGTH,
      memoryCost: params.memoryKiB,
      timeCost: params.iterations,
      parallelism: params.parallelism,
    });
    const verifierKey = Buffer.from(hkdfSync('sha256', master, salt, 'coffer/password/verifier/v1', 32));
    const kekBytes = Buffer.from(hkdfSync('sha256', master, salt, 'coffer/password/kek/v1', 32));
    const kek = symmetricKeyFromBytes(kekBytes);
    const verifierHash = createHash('sha256').update(verifierKey).digest();
    const proof = verifierKey.toString('base64url');
    wipe(verifierKey, kekBytes);
    return { verifierHash, proof, kek };
  } finally {
    wipe(secret, master);
  }
}

/** Make a verifier and KEK for a new password (enrolment, change, or rehash). */
export async function enrollPassword(
  password: string,
  params: PasswordParams = PASSWORD_PARAMS_FLOOR,
): Promise<{ verifier: string; kek: SymmetricKey }> {
  assertStrongEnough(params);
  const salt = randomBytes(SALT_LENGTH);
  const { verifierHash, kek } = await derive(password, salt, params);
  const verifier = `$${FUNCTION_ID}$v=${ARGON2_VERSION}$m=${params.memoryKiB},t=${params.iterations},p=${params.parallelism}$${b64(salt)}$${b64(verifierHash)}`;
  return { verifier, kek };
}

/**
 * Check a password against its verifier and derive the KEK. Throws WrongPassword on mismatch.
 * `stale` is true when the verifier was made with weaker parameters than `current`: the caller
 * should enrol the password again and re-wrap the user's key under the new KEK.
 */
export async function unlockWithPassword(
  password: string,
  verifier: string,
  current: PasswordParams = PASSWORD_PARAMS_FLOOR,
): Promise<{ kek: SymmetricKey; stale: boolean; proof: string }> {
  const parsed = parseVerifier(verifier);
  assertStrongEnough(parsed.params);
  const { verifierHash, proof, kek } = await derive(password, parsed.salt, parsed.params);
  if (!timingSafeEqual(verifierHash, parsed.verifierHash)) {
    kek.destroy();
    throw new CryptoError('WrongPassword');
  }
  return { kek, stale: isVerifierStale(verifier, current), proof };
}

/**
 * Whether `proof` (the verifier key that unlocking yields) matches a stored verifier: lets the
 * vault check that whoever asks for a session knew the password, without the vault ever seeing
 * it. The proof is one HKDF output of argon2id(password): it opens no KEK, and a database dump
 * holds only its SHA-256. Constant time.
 */
export function checkPasswordProof(proof: string, verifier: string): boolean {
  let parsed: ParsedVerifier;
  let bytes: Buffer;
  try {
    parsed = parseVerifier(verifier);
    bytes = fromBase64url(proof, 32);
  } catch {
    return false;
  }
  const hash = createHash('sha256').update(bytes).digest();
  wipe(bytes);
  return timingSafeEqual(hash, parsed.verifierHash);
}

export function isVerifierStale(verifier: string, current: PasswordParams = PASSWORD_PARAMS_FLOOR): boolean {
  const { params } = parseVerifier(verifier);
  return (
    params.memoryKiB < current.memoryKiB ||
    params.iterations < current.iterations ||
    params.parallelism < current.parallelism
  );
}
