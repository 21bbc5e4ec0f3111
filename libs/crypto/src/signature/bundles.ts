/**
 * Ed25519 signatures by the org key over the two bundles of the key hierarchy. A bundle is signed
 * over its canonical encoding — a domain label and fixed-order, length-prefixed fields — so one
 * bundle has exactly one byte string whatever the field order of the JSON it arrived in.
 */
import { sign, verify } from 'node:crypto';
import { fromBase64url, i2osp, isWellFormed, lengthPrefixed } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { assertKind, type PrivateKey, PublicKey, privateKeyObject } from '../keys/keys.ts';

/** The public half of a data key and its validity window (ISO 8601 UTC, as toISOString). */
export interface DataKeyBundle {
  readonly id: string;
  readonly publicKey: string;
  readonly notBefore: string;
  readonly notAfter: string;
}

/** Users' roles, and 'recovery' for the recovery key's own certificate. */
export const ROLES = ['viewer', 'key-admin', 'auditor', 'recovery'] as const;
export type Role = (typeof ROLES)[number];

/** A user's public key and role, as certified by the org key. */
export interface UserCertificate {
  readonly id: string;
  readonly role: Role;
  readonly publicKey: string;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const SIGNATURE_LENGTH = 64;

function invalid(why: string): never {
  throw new CryptoError('InvalidBundle', why);
}

/**
 * Reads each expected field of `value` exactly once into a plain object. Everything after this works
 * on the copy: a getter or Proxy that answers differently on a second read cannot make the bytes
 * that were verified differ from the values returned. A read that throws is InvalidBundle.
 */
function readFields<F extends string>(value: unknown, fields: readonly F[]): Record<F, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('not an object');
  try {
    const keys = Object.keys(value);
    if (keys.length !== fields.length || !fields.every((f) => keys.includes(f))) {
      invalid(`expected exactly the fields ${fields.join(', ')}`);
    }
    const source = value as Record<string, unknown>;
    const copy = {} as Record<F, unknown>;
    for (const f of fields) copy[f] = source[f];
    return copy;
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    invalid('fields cannot be read');
  }
}

function id(value: unknown): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 128) invalid('id must be 1–128 characters');
  // An unpaired surrogate would be signed as U+FFFD, so two ids would share one signature.
  if (!isWellFormed(value)) invalid('id is not well-formed Unicode');
  return value;
}

function instant(value: unknown): number {
  if (typeof value !== 'string' || !ISO_UTC.test(value)) invalid('time must be ISO 8601 UTC with milliseconds');
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== value) invalid('time is not a real instant');
  // Times are signed as unsigned 64-bit milliseconds: an earlier time has no encoding of its own.
  if (ms < 0) invalid('time is before 1970-01-01');
  return ms;
}

function x25519Key(value: unknown): PublicKey<'x25519'> {
  if (typeof value !== 'string') invalid('publicKey must be base64url');
  try {
    return PublicKey.fromBase64url('x25519', value);
  } catch {
    invalid('publicKey is not a 32-byte X25519 key');
  }
}

/** A bundle or certificate as read once and checked, with its canonical bytes. */
interface Read<T> {
  readonly fields: T;
  readonly key: PublicKey<'x25519'>;
  readonly canonical: Buffer;
}

function readDataKeyBundle(bundle: unknown): Read<DataKeyBundle> {
  const b = readFields(bundle, ['id', 'publicKey', 'notBefore', 'notAfter']);
  const bundleId = id(b.id);
  const key = x25519Key(b.publicKey);
  const notBefore = instant(b.notBefore);
  const notAfter = instant(b.notAfter);
  if (notAfter <= notBefore) invalid('notAfter must be later than notBefore');
  const fields = {
    id: bundleId,
    publicKey: b.publicKey as string,
    notBefore: b.notBefore as string,
    notAfter: b.notAfter as string,
  };
  const canonical = lengthPrefixed(
    'coffer/data-key-bundle/v1',
    fields.id,
    key.bytes(),
    i2osp(notBefore, 8),
    i2osp(notAfter, 8),
  );
  return { fields, key, canonical };
}

function readUserCertificate(certificate: unknown): Read<UserCertificate> {
  const c = readFields(certificate, ['id', 'role', 'publicKey']);
  const certificateId = id(c.id);
  if (!ROLES.includes(c.role as Role)) invalid('unknown role');
  const key = x25519Key(c.publicKey);
  const fields = { id: certificateId, role: c.role as Role, publicKey: c.publicKey as string };
  return { fields, key, canonical: lengthPrefixed('coffer/user-certificate/v1', fields.id, fields.role, key.bytes()) };
}

/** Canonical bytes of a data key bundle; throws InvalidBundle for anything not well-formed. */
export function canonicalDataKeyBundle(bundle: unknown): Buffer {
  return readDataKeyBundle(bundle).canonical;
}

/** Canonical bytes of a user certificate; throws InvalidBundle for anything not well-formed. */
export function canonicalUserCertificate(certificate: unknown): Buffer {
  return readUserCertificate(certificate).canonical;
}

function signCanonical(orgKey: PrivateKey<'ed25519'>, message: Buffer): string {
  return sign(null, message, privateKeyObject(orgKey)).toString('base64url');
}

function verifyCanonical(trustRoot: PublicKey<'ed25519'>, message: Buffer, signature: string): void {
  let sig: Buffer;
  try {
    sig = fromBase64url(signature, SIGNATURE_LENGTH);
  } catch {
    throw new CryptoError('BadSignature', 'signature is not 64 bytes of base64url');
  }
  if (!verify(null, message, trustRoot.keyObject, sig)) throw new CryptoError('BadSignature');
}

export function signDataKeyBundle(orgKey: PrivateKey<'ed25519'>, bundle: DataKeyBundle): string {
  assertKind(orgKey, 'ed25519', 'org key');
  return signCanonical(orgKey, canonicalDataKeyBundle(bundle));
}

/** Verify against the pinned trust root; returns the bundle with its key ready to seal to. */
export function verifyDataKeyBundle(
  trustRoot: PublicKey<'ed25519'>,
  bundle: unknown,
  signature: string,
): DataKeyBundle & { key: PublicKey<'x25519'> } {
  assertKind(trustRoot, 'ed25519', 'trust root');
  const { fields, key, canonical } = readDataKeyBundle(bundle);
  verifyCanonical(trustRoot, canonical, signature);
  return { ...fields, key };
}

/** Whether `at` falls inside the bundle's validity window [notBefore, notAfter). */
export function bundleCovers(bundle: DataKeyBundle, at: Date): boolean {
  const t = at.getTime();
  return Date.parse(bundle.notBefore) <= t && t < Date.parse(bundle.notAfter);
}

export function signUserCertificate(orgKey: PrivateKey<'ed25519'>, certificate: UserCertificate): string {
  assertKind(orgKey, 'ed25519', 'org key');
  return signCanonical(orgKey, canonicalUserCertificate(certificate));
}

export function verifyUserCertificate(
  trustRoot: PublicKey<'ed25519'>,
  certificate: unknown,
  signature: string,
): UserCertificate & { key: PublicKey<'x25519'> } {
  assertKind(trustRoot, 'ed25519', 'trust root');
  const { fields, key, canonical } = readUserCertificate(certificate);
  verifyCanonical(trustRoot, canonical, signature);
  return { ...fields, key };
}
