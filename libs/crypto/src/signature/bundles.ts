/**
 * Ed25519 signatures by the org key over the two bundles of the key hierarchy. A bundle is signed
 * over its canonical encoding — a domain label and fixed-order, length-prefixed fields — so one
 * bundle has exactly one byte string whatever the field order of the JSON it arrived in.
 */
import { sign, verify } from 'node:crypto';
import { fromBase64url, i2osp, lengthPrefixed } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { type PrivateKey, PublicKey, privateKeyObject } from '../keys/keys.ts';

/** The public half of a data key and its validity window (ISO 8601 UTC, as toISOString). */
export interface DataKeyBundle {
  readonly id: string;
  readonly publicKey: string;
  readonly notBefore: string;
  readonly notAfter: string;
}

export const ROLES = ['viewer', 'key-admin', 'auditor'] as const;
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

function exactFields(value: unknown, fields: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid('not an object');
  const keys = Object.keys(value);
  if (keys.length !== fields.length || !fields.every((f) => keys.includes(f))) {
    invalid(`expected exactly the fields ${fields.join(', ')}`);
  }
  return value as Record<string, unknown>;
}

function id(value: unknown): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > 128) invalid('id must be 1–128 characters');
  return value;
}

function instant(value: unknown): number {
  if (typeof value !== 'string' || !ISO_UTC.test(value)) invalid('time must be ISO 8601 UTC with milliseconds');
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || new Date(ms).toISOString() !== value) invalid('time is not a real instant');
  return ms;
}

function x25519Key(value: unknown): Buffer {
  if (typeof value !== 'string') invalid('publicKey must be base64url');
  try {
    return PublicKey.fromBase64url('x25519', value).bytes();
  } catch {
    invalid('publicKey is not a 32-byte X25519 key');
  }
}

/** Canonical bytes of a data key bundle; throws InvalidBundle for anything not well-formed. */
export function canonicalDataKeyBundle(bundle: unknown): Buffer {
  const b = exactFields(bundle, ['id', 'publicKey', 'notBefore', 'notAfter']);
  const notBefore = instant(b.notBefore);
  const notAfter = instant(b.notAfter);
  if (notAfter <= notBefore) invalid('notAfter must be later than notBefore');
  return lengthPrefixed(
    'coffer/data-key-bundle/v1',
    id(b.id),
    x25519Key(b.publicKey),
    i2osp(notBefore, 8),
    i2osp(notAfter, 8),
  );
}

/** Canonical bytes of a user certificate; throws InvalidBundle for anything not well-formed. */
export function canonicalUserCertificate(certificate: unknown): Buffer {
  const c = exactFields(certificate, ['id', 'role', 'publicKey']);
  if (!ROLES.includes(c.role as Role)) invalid('unknown role');
  return lengthPrefixed('coffer/user-certificate/v1', id(c.id), c.role as Role, x25519Key(c.publicKey));
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
  return signCanonical(orgKey, canonicalDataKeyBundle(bundle));
}

/** Verify against the pinned trust root; returns the bundle with its key ready to seal to. */
export function verifyDataKeyBundle(
  trustRoot: PublicKey<'ed25519'>,
  bundle: unknown,
  signature: string,
): DataKeyBundle & { key: PublicKey<'x25519'> } {
  verifyCanonical(trustRoot, canonicalDataKeyBundle(bundle), signature);
  const b = bundle as DataKeyBundle;
  return {
    id: b.id,
    publicKey: b.publicKey,
    notBefore: b.notBefore,
    notAfter: b.notAfter,
    key: PublicKey.fromBase64url('x25519', b.publicKey),
  };
}

/** Whether `at` falls inside the bundle's validity window [notBefore, notAfter). */
export function bundleCovers(bundle: DataKeyBundle, at: Date): boolean {
  const t = at.getTime();
  return Date.parse(bundle.notBefore) <= t && t < Date.parse(bundle.notAfter);
}

export function signUserCertificate(orgKey: PrivateKey<'ed25519'>, certificate: UserCertificate): string {
  return signCanonical(orgKey, canonicalUserCertificate(certificate));
}

export function verifyUserCertificate(
  trustRoot: PublicKey<'ed25519'>,
  certificate: unknown,
  signature: string,
): UserCertificate & { key: PublicKey<'x25519'> } {
  verifyCanonical(trustRoot, canonicalUserCertificate(certificate), signature);
  const c = certificate as UserCertificate;
  return { id: c.id, role: c.role, publicKey: c.publicKey, key: PublicKey.fromBase64url('x25519', c.publicKey) };
}
