/**
 * Changing the suite an existing org's new keys are made in (issue 15, item 3): the next org
 * configuration, version one more than the verified current one, signed with the org key through
 * a key-admin's session. Only upwards: an X-Wing org is never moved back to X25519, which would let
 * a future quantum adversary read every record sealed after the change.
 */
import {
  type BundleSuite,
  type OrgConfig,
  orgConfigVersion,
  type PublicKey,
  signOrgConfig,
  verifyOrgConfig,
} from '@coffer/crypto';
import { type Holder, withOrgKey } from './holder.ts';
import { orgSuite, type SuiteMaterial, SuiteRefused } from './suite.ts';

export interface SignedOrgConfig {
  readonly config: OrgConfig & { readonly v: 2 };
  readonly signature: string;
  /** The suite before the change. */
  readonly from: BundleSuite;
}

export function nextOrgConfig(
  holder: Holder,
  material: SuiteMaterial & { readonly orgKey: string },
  trustRoot: PublicKey<'ed25519'>,
  suite: BundleSuite,
): SignedOrgConfig {
  const from = orgSuite(trustRoot, material); // refuses a configuration that does not verify
  if (from === 'xwing' && suite === 'x25519') {
    throw new SuiteRefused('the org is X-Wing: a configuration back to x25519 is never signed');
  }
  const current = material.config
    ? orgConfigVersion(verifyOrgConfig(trustRoot, material.config.config, material.config.signature))
    : 0;
  const config = { v: 2 as const, orgKeyId: material.orgKeyId, suite, version: Math.max(1, current) + 1 };
  const signature = withOrgKey(holder, material, (orgKey) => signOrgConfig(orgKey, config));
  return { config, signature, from };
}
