/**
 * Passwords: one argon2id call, split by HKDF-SHA256 into an authentication key and the KEK. The
 * authentication key is an Ed25519 seed: the stored verifier holds its public half, and whoever
 * knows the password proves it to the vault by signing a single-use challenge — so the vault can
 * check a sign-in without ever seeing the password, and nothing that crosses the bus can be
 * replayed. HKDF's outputs under distinct labels are independent, so a verifier from a database
 * dump gives no KEK; guessing the password costs one argon2id call either way. Against two argon2id
 * calls (separate salts) it halves sign-in time — docs/benchmarks.md has the measurement.
 *
 * Verifier, a PHC string (its own function id, since the last field is not argon2's raw output):
 *   $coffer-argon2id-ed25519$v=19$m=65536,t=3,p=4$<salt>$<Ed25519 public key>
 */
import { hkdfSync, randomBytes, sign, timingSafeEqual, verify } from 'node:crypto';
import argon2 from 'argon2';
import { fromBase64url, isWellFormed, lengthPrefixed, utf8, wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { PrivateKey, PublicKey, privateKeyObject } from '../keys/keys.ts';
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

const FUNCTION_ID = 'coffer-argon2id-ed25519';
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
  /** Public half of the password's authentication key. */
  readonly authPublicKey: Buffer;
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
    authPublicKey: fromB64(hash as string),
  };
  if (parsed.salt.length !== SALT_LENGTH || parsed.authPublicKey.length !== 32) {
    throw new CryptoError('Malformed', 'verifier salt or key has the wrong length');
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

/** argon2id(password) → (authentication key, KEK). The master secret is wiped here. */
async function derive(
  password: string,
  salt: Buffer,
  params: PasswordParams,
): Promise<{ authKey: PrivateKey<'ed25519'>; kek: SymmetricKey }> {
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
    const authSeed = Buffer.from(hkdfSync('sha256', master, salt, 'coffer/password/auth/v1', 32));
    const kekBytes = Buffer.from(hkdfSync('sha256', master, salt, 'coffer/password/kek/v1', 32));
    const kek = symmetricKeyFromBytes(kekBytes);
    const authKey = PrivateKey.fromBytes('ed25519', authSeed);
    wipe(authSeed, kekBytes);
    return { authKey, kek };
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
  const { authKey, kek } = await derive(password, salt, params);
  const verifier = `$${FUNCTION_ID}$v=${ARGON2_VERSION}$m=${params.memoryKiB},t=${params.iterations},p=${params.parallelism}$${b64(salt)}$${b64(authKey.publicKey.bytes())}`;
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
): Promise<{ kek: SymmetricKey; stale: boolean; authKey: PrivateKey<'ed25519'> }> {
  const parsed = parseVerifier(verifier);
  assertStrongEnough(parsed.params);
  const { authKey, kek } = await derive(password, parsed.salt, parsed.params);
  if (!timingSafeEqual(authKey.publicKey.bytes(), parsed.authPublicKey)) {
    kek.destroy();
    throw new CryptoError('WrongPassword');
  }
  return { kek, stale: isVerifierStale(verifier, current), authKey };
}

/** What a password proof signs: a single-use challenge and what the proof is for. */
function proofMessage(challenge: { id: string; nonce: string }, context: readonly string[]): Buffer {
  return lengthPrefixed('coffer/password-proof/v1', challenge.id, challenge.nonce, ...context);
}

/**
 * Prove knowledge of the password to the vault: an Ed25519 signature by the password's
 * authentication key over a challenge the vault issued once, and the context (user, session) it
 * is for. Seen on the bus, it opens nothing and cannot be used again.
 */
export function signPasswordProof(
  authKey: PrivateKey<'ed25519'>,
  challenge: { id: string; nonce: string },
  context: readonly string[],
): string {
  return sign(null, proofMessage(challenge, context), privateKeyObject(authKey)).toString('base64url');
}

/** Whether `proof` was made with the password of `verifier`, for this challenge and context. */
export function checkPasswordProof(
  verifier: string,
  challenge: { id: string; nonce: string },
  context: readonly string[],
  proof: string,
): boolean {
  try {
    const key = PublicKey.fromBytes('ed25519', parseVerifier(verifier).authPublicKey);
    return verify(null, proofMessage(challenge, context), key.keyObject, fromBase64url(proof, 64));
  } catch {
    return false;
  }
}

export function isVerifierStale(verifier: string, current: PasswordParams = PASSWORD_PARAMS_FLOOR): boolean {
  const { params } = parseVerifier(verifier);
  return (
    params.memoryKiB < current.memoryKiB ||
    params.iterations < current.iterations ||
    params.parallelism < current.parallelism
  );
}
