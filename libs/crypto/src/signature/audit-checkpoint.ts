/**
 * Signed checkpoints of the audit chain's head, and the file that holds the key signing them.
 *
 * A checkpoint says "event `seq` of the audit log had hash `hash`", signed by the vault's signing
 * key (Ed25519) at `at`. It is kept outside the database, so a database writer who deletes the
 * last events, or rewrites one and re-chains the rest, no longer matches it; without the key they
 * cannot make one that does. Signed over a domain label and fixed-width fields (crypto.md).
 */
import { sign, verify } from 'node:crypto';
import { fromBase64url, i2osp, lengthPrefixed, wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { assertKind, exportPrivateBytes, PrivateKey, type PublicKey, privateKeyObject } from '../keys/keys.ts';

export const AUDIT_CHECKPOINT_VERSION = 1;
const LABEL = 'coffer/audit-checkpoint/v1';
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** What a checkpoint asserts: the chain's event `seq` has hash `hash` (hex), as seen at `at`. */
export interface AuditCheckpoint {
  readonly seq: number;
  readonly hash: string;
  readonly at: string;
}

/** A checkpoint as stored and published: the fields, the signer's public key and the signature. */
export interface SignedAuditCheckpoint extends AuditCheckpoint {
  readonly v: 1;
  /** The signing key's public half (Ed25519, base64url): which pinned key to check it against. */
  readonly key: string;
  readonly signature: string;
}

function invalid(why: string): never {
  throw new CryptoError('InvalidBundle', `audit checkpoint: ${why}`);
}

function canonical(cp: AuditCheckpoint): Buffer {
  if (!Number.isSafeInteger(cp.seq) || cp.seq < 1) invalid('seq must be a positive integer');
  if (typeof cp.hash !== 'string' || !/^[0-9a-f]{64}$/.test(cp.hash)) invalid('hash must be 64 hex digits');
  if (typeof cp.at !== 'string' || !ISO_UTC.test(cp.at)) invalid('at must be ISO 8601 UTC with milliseconds');
  const at = Date.parse(cp.at);
  if (Number.isNaN(at) || new Date(at).toISOString() !== cp.at || at < 0) invalid('at is not a real instant');
  return lengthPrefixed(LABEL, i2osp(cp.seq, 8), Buffer.from(cp.hash, 'hex'), i2osp(at, 8));
}

export function signAuditCheckpoint(key: PrivateKey<'ed25519'>, cp: AuditCheckpoint): SignedAuditCheckpoint {
  assertKind(key, 'ed25519', 'audit checkpoint signing key');
  const fields = { seq: cp.seq, hash: cp.hash, at: cp.at };
  const signature = sign(null, canonical(fields), privateKeyObject(key)).toString('base64url');
  return { v: AUDIT_CHECKPOINT_VERSION, ...fields, key: key.publicKey.toBase64url(), signature };
}

/**
 * The checkpoint's fields if it is well formed and signed by `trusted`; otherwise BadSignature
 * (another key, or altered fields), UnsupportedVersion or InvalidBundle. Reads each field once.
 */
export function verifyAuditCheckpoint(value: unknown, trusted: PublicKey<'ed25519'>): AuditCheckpoint {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('not an object');
  const { v, seq, hash, at, key, signature } = value as Record<string, unknown>;
  if (v !== AUDIT_CHECKPOINT_VERSION) throw new CryptoError('UnsupportedVersion', 'audit checkpoint version');
  const fields = { seq, hash, at } as AuditCheckpoint;
  const message = canonical(fields);
  if (key !== trusted.toBase64url()) throw new CryptoError('BadSignature', 'audit checkpoint signed by another key');
  if (typeof signature !== 'string') invalid('signature must be base64url');
  const sig = fromBase64url(signature, 64);
  if (!verify(null, message, trusted.keyObject, sig)) throw new CryptoError('BadSignature', 'audit checkpoint');
  return { seq: fields.seq, hash: fields.hash, at: fields.at };
}

/**
 * The signing key's file: `{"v":1,"kind":"coffer-audit-signing-key","privateKey":<base64url>}`
 * (32 raw Ed25519 bytes). Kept on the vault host, mode 0600, never in the database.
 */
export function encodeSigningKeyFile(key: PrivateKey<'ed25519'>): string {
  assertKind(key, 'ed25519', 'audit checkpoint signing key');
  const raw = exportPrivateBytes(key);
  try {
    return `${JSON.stringify({ v: 1, kind: 'coffer-audit-signing-key', privateKey: raw.toString('base64url') })}\n`;
  } finally {
    wipe(raw);
  }
}

export function decodeSigningKeyFile(text: string): PrivateKey<'ed25519'> {
  let parsed: { v?: unknown; kind?: unknown; privateKey?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CryptoError('Malformed', 'signing key file is not JSON');
  }
  if (parsed.v !== 1 || parsed.kind !== 'coffer-audit-signing-key' || typeof parsed.privateKey !== 'string') {
    throw new CryptoError('Malformed', 'not a coffer audit signing key file');
  }
  const raw = fromBase64url(parsed.privateKey, 32);
  try {
    return PrivateKey.fromBytes('ed25519', raw);
  } finally {
    wipe(raw);
  }
}
