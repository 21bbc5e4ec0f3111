/**
 * Which suite the org's new keys are made in: what the org's signed configuration says, checked
 * against the pinned trust root. The configuration row is the database's, so it is not trusted:
 * an altered or foreign one is refused, and a missing one means X25519 (an org made before suites
 * existed) only while the newest org-signed data key is X25519 too — a database writer who deletes
 * the configuration of an X-Wing org is refused, not obeyed.
 */
import { type BundleSuite, type PublicKey, verifyDataKeyBundle, verifyOrgConfig } from '@coffer/crypto';

export class SuiteRefused extends Error {
  override readonly name = 'SuiteRefused';
  readonly code = 'suite-refused';
}

export interface SuiteMaterial {
  readonly orgKeyId: string;
  /** The org's configuration and the org key's signature over it; null for an org made before. */
  readonly config?: { readonly config: unknown; readonly signature: string } | null | undefined;
  /** The newest data key's bundle as signed, null before any. */
  readonly newestKey?: { readonly bundle: unknown; readonly signature: string } | null | undefined;
}

export function orgSuite(trustRoot: PublicKey<'ed25519'>, material: SuiteMaterial): BundleSuite {
  if (material.config) {
    let suite: BundleSuite;
    try {
      const config = verifyOrgConfig(trustRoot, material.config.config, material.config.signature);
      if (config.orgKeyId !== material.orgKeyId) throw new Error('it names another org key');
      suite = config.suite;
    } catch (err) {
      throw new SuiteRefused(`the org configuration does not verify: ${(err as Error).message}`);
    }
    // An org moved to X-Wing keeps its old, validly signed X25519 configuration in backups: one
    // restored into the row is refused as soon as an X-Wing key exists.
    if (suite === 'x25519') refuseDowngrade(trustRoot, material, 'the org configuration names x25519');
    return suite;
  }
  refuseDowngrade(trustRoot, material, 'the org configuration is missing');
  return 'x25519';
}

function refuseDowngrade(trustRoot: PublicKey<'ed25519'>, material: SuiteMaterial, why: string): void {
  const newest = material.newestKey;
  if (newest) {
    let newestSuite: BundleSuite;
    try {
      newestSuite =
        verifyDataKeyBundle(trustRoot, newest.bundle, newest.signature, ['x25519', 'xwing']).suite ?? 'x25519';
    } catch (err) {
      throw new SuiteRefused(`the newest data key does not verify: ${(err as Error).message}`);
    }
    if (newestSuite !== 'x25519') {
      throw new SuiteRefused(`${why} but the newest data key is ${newestSuite}: refusing to downgrade`);
    }
  }
}
