/**
 * The data key bundle, verified in the browser exactly as libs/crypto verifies it: the same exact
 * fields, the same canonical bytes (`coffer/data-key-bundle/v1`, length-prefixed id, raw X25519 key,
 * 64-bit notBefore/notAfter; or, with a `suite` field, `coffer/data-key-bundle/v2` with the suite's
 * HPKE ids and a key of that suite), Ed25519 by WebCrypto against the trust root compiled into the
 * module. A suite this module does not seal with is UnsupportedSuite: never sealed as another.
 */
import type { SealSuite } from './blob.ts';
import { fromBase64url, i2osp, lengthPrefixed } from './bytes.ts';
import { SealError } from './errors.ts';

/** WebCrypto's CryptoKey, named without the DOM lib. */
export type TrustKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

export interface VerifiedBundle {
  readonly id: string;
  /** The suite the signed bundle names (X25519 when it names none, canonical v1). */
  readonly suite: SealSuite;
  /** Raw public key of that suite to seal to: 32 bytes X25519, 1216 X-Wing. */
  readonly publicKey: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
}

const FIELDS = ['id', 'publicKey', 'notBefore', 'notAfter'];
/** Per suite: its six HPKE id bytes (KEM, KDF, AEAD) as v2 signs them, and its public key length. */
const SUITES: Record<SealSuite, { ids: Uint8Array; keyLength: number }> = {
  x25519: { ids: Uint8Array.of(0x00, 0x20, 0x00, 0x01, 0x00, 0x02), keyLength: 32 },
  xwing: { ids: Uint8Array.of(0x64, 0x7a, 0x00, 0x01, 0x00, 0x02), keyLength: 1216 },
};

function suiteField(value: unknown): SealSuite | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length < 1 || value.length > 64) invalid('suite must be a short string');
  if (value !== 'x25519' && value !== 'xwing') {
    throw new SealError('UnsupportedSuite', 'the data key bundle names a suite this module cannot seal with');
  }
  return value;
}
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function invalid(why: string): never {
  throw new SealError('InvalidBundle', `the data key bundle is not well-formed: ${why}`);
}

function instant(value: unknown): number {
  if (typeof value !== 'string' || !ISO_UTC.test(value)) invalid('time must be ISO 8601 UTC with milliseconds');
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== value || ms < 0) invalid('time is not a real instant');
  return ms;
}

function readBundle(bundle: unknown): { fields: VerifiedBundle; canonical: Uint8Array } {
  if (typeof bundle !== 'object' || bundle === null || Array.isArray(bundle)) invalid('not an object');
  const keys = Object.keys(bundle);
  // `suite` is the one optional field: its presence selects canonical v2.
  const expected = keys.includes('suite') ? [...FIELDS, 'suite'] : FIELDS;
  if (keys.length !== expected.length || !expected.every((f) => keys.includes(f))) invalid('unexpected fields');
  // Read each field once into locals: what is verified is what is returned.
  const { id, suite: suiteValue, publicKey, notBefore, notAfter } = bundle as Record<string, unknown>;
  if (typeof id !== 'string' || id.length < 1 || id.length > 128) invalid('id must be 1–128 characters');
  if (!(id as string & { isWellFormed(): boolean }).isWellFormed()) invalid('id is not well-formed Unicode');
  const named = suiteField(suiteValue);
  const suite = named ?? 'x25519';
  const key = typeof publicKey === 'string' ? fromBase64url(publicKey) : null;
  if (key?.length !== SUITES[suite].keyLength) invalid(`publicKey is not an ${suite} public key`);
  const nb = instant(notBefore);
  const na = instant(notAfter);
  if (na <= nb) invalid('notAfter must be later than notBefore');
  const window = [i2osp(nb, 8), i2osp(na, 8)];
  const canonical =
    named === undefined
      ? lengthPrefixed('coffer/data-key-bundle/v1', id, key, ...window)
      : lengthPrefixed('coffer/data-key-bundle/v2', id, SUITES[named].ids, key, ...window);
  return { fields: { id, suite, publicKey: key, notBefore: nb, notAfter: na }, canonical };
}

/** Import a base64url Ed25519 public key (the org trust root) for WebCrypto verification. */
export async function importTrustRoot(trustRoot: string): Promise<TrustKey> {
  const raw = fromBase64url(trustRoot);
  if (raw?.length !== 32) throw new TypeError('the trust root must be a 32-byte Ed25519 key in base64url');
  return crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, { name: 'Ed25519' }, false, ['verify']);
}

/**
 * Verify `signed` ({ bundle, signature } as GET /v1/keys/current answers) against the trust root and
 * check that its window covers `now`. Throws SealError: BadSignature, InvalidBundle or KeyExpired.
 */
export async function verifyBundle(trustRoot: TrustKey, signed: unknown, now: number): Promise<VerifiedBundle> {
  if (typeof signed !== 'object' || signed === null) invalid('not an object');
  const { bundle, signature } = signed as { bundle?: unknown; signature?: unknown };
  const { fields, canonical } = readBundle(bundle);
  const sig = typeof signature === 'string' ? fromBase64url(signature) : null;
  if (sig?.length !== 64) throw new SealError('BadSignature', 'the key bundle signature is not 64 bytes');
  const ok = await crypto.subtle.verify(
    { name: 'Ed25519' },
    trustRoot,
    sig as Uint8Array<ArrayBuffer>,
    canonical as Uint8Array<ArrayBuffer>,
  );
  if (!ok) throw new SealError('BadSignature', 'the key bundle is not signed by this organisation’s trust root');
  if (now < fields.notBefore || now >= fields.notAfter) {
    throw new SealError('KeyExpired', 'the signed data key is not valid now (expired or not yet valid)');
  }
  return fields;
}
