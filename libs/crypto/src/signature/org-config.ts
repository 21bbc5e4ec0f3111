/**
 * The org's signed configuration: which suite new keys are made in. Signed by the org key at
 * `coffer init`, stored with the org row, and checked against the pinned trust root by whoever
 * mints keys, so a database writer cannot change the suite (a downgrade to X25519 would let a
 * future quantum adversary read every record sealed after it).
 *
 * Format v1 (docs/crypto.md): Ed25519 by the org key over
 *   lengthPrefixed("coffer/org-config/v1", orgKeyId, suite's six HPKE id bytes)
 * Format v2 (a key-admin changing the suite, issue 15 item 3): Ed25519 by the org key over
 *   lengthPrefixed("coffer/org-config/v2", orgKeyId, suite's six HPKE id bytes, version as decimal)
 * where `version` (≥ 2; a v1 configuration is version 1) counts the org's configurations, so each
 * update is a new signed statement and the vault stores none older than the one it has.
 * The org key id is signed so a configuration cannot be carried to another org.
 */
import { i2osp, isWellFormed, lengthPrefixed } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { suiteFor } from '../hpke/hpke.ts';
import type { PrivateKey, PublicKey } from '../keys/keys.ts';
import { BUNDLE_SUITES, type BundleSuite } from './bundles.ts';
import { signedStatement } from './signed-statement.ts';

export const ORG_CONFIG_LABEL = 'coffer/org-config/v1';
export const ORG_CONFIG_V2_LABEL = 'coffer/org-config/v2';

export type OrgConfig = OrgConfigV1 | OrgConfigV2;

export interface OrgConfigV1 {
  readonly v: 1;
  readonly orgKeyId: string;
  /** The suite new data keys (and, later, user and recovery keys) are made in. */
  readonly suite: BundleSuite;
}

export interface OrgConfigV2 {
  readonly v: 2;
  readonly orgKeyId: string;
  readonly suite: BundleSuite;
  /** Which configuration of the org this is: 2 for the first update of a v1 one, then one more each. */
  readonly version: number;
}

/** The configuration's number in the org's sequence: a v1 configuration is the first. */
export const orgConfigVersion = (config: OrgConfig): number => (config.v === 1 ? 1 : config.version);

function canonicalOrgConfig(value: unknown): { read: OrgConfig; bytes: Buffer } {
  const bad = (why: string): never => {
    throw new CryptoError('InvalidBundle', `org config: ${why}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('not an object');
  let fields: Record<string, unknown>;
  try {
    // Read once: a getter cannot make the signed bytes differ from the values returned.
    const { v, orgKeyId, suite, version } = value as Record<string, unknown>;
    fields = { v, orgKeyId, suite, version, keys: Object.keys(value).sort().join(',') };
  } catch {
    return bad('fields cannot be read');
  }
  const { v, orgKeyId, suite, version, keys } = fields;
  if (v !== 1 && v !== 2) throw new CryptoError('UnsupportedVersion', 'org config version');
  if (keys !== (v === 1 ? 'orgKeyId,suite,v' : 'orgKeyId,suite,v,version')) return bad('unexpected fields');
  if (typeof orgKeyId !== 'string' || orgKeyId.length < 1 || orgKeyId.length > 128 || !isWellFormed(orgKeyId)) {
    return bad('orgKeyId must be 1–128 characters of well-formed Unicode');
  }
  if (typeof suite !== 'string') return bad('suite must be a string');
  if (!(BUNDLE_SUITES as readonly string[]).includes(suite)) throw new CryptoError('UnsupportedSuite', 'unknown suite');
  const { kem, kdf, aead } = suiteFor(suite as BundleSuite);
  const ids = Buffer.concat([i2osp(kem, 2), i2osp(kdf, 2), i2osp(aead, 2)]);
  if (v === 1) {
    const config: OrgConfig = { v: 1, orgKeyId, suite: suite as BundleSuite };
    return { read: config, bytes: lengthPrefixed(ORG_CONFIG_LABEL, config.orgKeyId, ids) };
  }
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 2) {
    return bad('version must be an integer of at least 2');
  }
  const config: OrgConfig = { v: 2, orgKeyId, suite: suite as BundleSuite, version };
  return { read: config, bytes: lengthPrefixed(ORG_CONFIG_V2_LABEL, config.orgKeyId, ids, String(version)) };
}

const orgConfigs = signedStatement(canonicalOrgConfig);

export function signOrgConfig(orgKey: PrivateKey<'ed25519'>, config: OrgConfig): string {
  return orgConfigs.sign(orgKey, config);
}

/** The configuration, read once, if `signature` verifies under the trust root; else BadSignature. */
export function verifyOrgConfig(trustRoot: PublicKey<'ed25519'>, config: unknown, signature: string): OrgConfig {
  return orgConfigs.verify(trustRoot, config, signature);
}
