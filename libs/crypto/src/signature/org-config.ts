/**
 * The org's signed configuration: which suite new keys are made in. Signed by the org key at
 * `coffer init`, stored with the org row, and checked against the pinned trust root by whoever
 * mints keys, so a database writer cannot change the suite (a downgrade to X25519 would let a
 * future quantum adversary read every record sealed after it).
 *
 * Format v1 (docs/crypto.md): Ed25519 by the org key over
 *   lengthPrefixed("coffer/org-config/v1", orgKeyId, suite's six HPKE id bytes)
 * The org key id is signed so a configuration cannot be carried to another org.
 */
import { sign, verify } from 'node:crypto';
import { fromBase64url, i2osp, isWellFormed, lengthPrefixed } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { suiteFor } from '../hpke/hpke.ts';
import { assertKind, type PrivateKey, type PublicKey, privateKeyObject } from '../keys/keys.ts';
import { BUNDLE_SUITES, type BundleSuite } from './bundles.ts';

export const ORG_CONFIG_LABEL = 'coffer/org-config/v1';

export interface OrgConfig {
  readonly v: 1;
  readonly orgKeyId: string;
  /** The suite new data keys (and, later, user and recovery keys) are made in. */
  readonly suite: BundleSuite;
}

function canonicalOrgConfig(value: unknown): { config: OrgConfig; bytes: Buffer } {
  const bad = (why: string): never => {
    throw new CryptoError('InvalidBundle', `org config: ${why}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('not an object');
  let v: unknown;
  let orgKeyId: unknown;
  let suite: unknown;
  try {
    if (Object.keys(value).sort().join(',') !== 'orgKeyId,suite,v') return bad('unexpected fields');
    // Read once: a getter cannot make the signed bytes differ from the values returned.
    ({ v, orgKeyId, suite } = value as Record<string, unknown>);
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    return bad('fields cannot be read');
  }
  if (v !== 1) throw new CryptoError('UnsupportedVersion', 'org config version');
  if (typeof orgKeyId !== 'string' || orgKeyId.length < 1 || orgKeyId.length > 128 || !isWellFormed(orgKeyId)) {
    return bad('orgKeyId must be 1–128 characters of well-formed Unicode');
  }
  if (typeof suite !== 'string') return bad('suite must be a string');
  if (!(BUNDLE_SUITES as readonly string[]).includes(suite)) throw new CryptoError('UnsupportedSuite', 'unknown suite');
  const config: OrgConfig = { v: 1, orgKeyId, suite: suite as BundleSuite };
  const { kem, kdf, aead } = suiteFor(config.suite);
  const ids = Buffer.concat([i2osp(kem, 2), i2osp(kdf, 2), i2osp(aead, 2)]);
  return { config, bytes: lengthPrefixed(ORG_CONFIG_LABEL, config.orgKeyId, ids) };
}

export function signOrgConfig(orgKey: PrivateKey<'ed25519'>, config: OrgConfig): string {
  assertKind(orgKey, 'ed25519', 'org key');
  return sign(null, canonicalOrgConfig(config).bytes, privateKeyObject(orgKey)).toString('base64url');
}

/** The configuration, read once, if `signature` verifies under the trust root; else BadSignature. */
export function verifyOrgConfig(trustRoot: PublicKey<'ed25519'>, config: unknown, signature: string): OrgConfig {
  assertKind(trustRoot, 'ed25519', 'trust root');
  const { config: read, bytes } = canonicalOrgConfig(config);
  let sig: Buffer;
  try {
    sig = fromBase64url(signature, 64);
  } catch {
    throw new CryptoError('BadSignature', 'signature is not 64 bytes of base64url');
  }
  if (!verify(null, bytes, trustRoot.keyObject, sig)) throw new CryptoError('BadSignature');
  return read;
}
