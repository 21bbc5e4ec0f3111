/**
 * Which suite the org's new keys are made in: what the org's signed configuration says, checked
 * against the pinned trust root. The configuration row is the database's, so it is not trusted:
 * an altered or foreign one is refused, and a missing one means X25519 (an org made before suites
 * existed) only while the newest org-signed data key is X25519 too — a database writer who deletes
 * the configuration of an X-Wing org is refused, not obeyed.
 *
 * "Newest" is by the signed window, never by a column: the vault sends every data key's bundle as
 * signed, and each must verify under the trust root (a tampered one refuses), so a database writer
 * who stretches an old X25519 key's `not_after` cannot hide the X-Wing keys behind it.
 */
import {
  type BundleSuite,
  type DataKeyBundle,
  type PublicKey,
  verifyDataKeyBundle,
  verifyOrgConfig,
} from '@coffer/crypto';

export class SuiteRefused extends Error {
  override readonly name = 'SuiteRefused';
  readonly code = 'suite-refused';
}

export interface SuiteMaterial {
  readonly orgKeyId: string;
  /** The org's configuration and the org key's signature over it; null for an org made before. */
  readonly config?: { readonly config: unknown; readonly signature: string } | null | undefined;
  /**
   * The newest data key's bundle as signed, null before any: what a vault that predates
   * `dataKeyBundles` sends (it chose it by the unsigned `not_after` column). Ignored when
   * `dataKeyBundles` is present.
   */
  readonly newestKey?: SignedBundle | null | undefined;
  /** Every data key's bundle as signed: the newest is chosen here, by its signed window. */
  readonly dataKeyBundles?: readonly SignedBundle[] | null | undefined;
}

type SignedBundle = { readonly bundle: unknown; readonly signature: string };

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
  const newestSuite = newestKeySuite(trustRoot, material);
  if (newestSuite !== null && newestSuite !== 'x25519') {
    throw new SuiteRefused(`${why} but the newest data key is ${newestSuite}: refusing to downgrade`);
  }
}

/**
 * The suite of the data key whose signed window ends last (then begins last), null before any. Every
 * bundle must verify: one that does not is tampered with, and it might be the newest.
 */
function newestKeySuite(trustRoot: PublicKey<'ed25519'>, material: SuiteMaterial): BundleSuite | null {
  const bundles = material.dataKeyBundles ?? (material.newestKey ? [material.newestKey] : []);
  let newest: { suite: BundleSuite; notAfter: number; notBefore: number } | null = null;
  for (const b of bundles) {
    let verified: DataKeyBundle;
    try {
      verified = verifyDataKeyBundle(trustRoot, b.bundle, b.signature, ['x25519', 'xwing']);
    } catch (err) {
      throw new SuiteRefused(`a data key does not verify: ${(err as Error).message}`);
    }
    const notAfter = Date.parse(verified.notAfter);
    const notBefore = Date.parse(verified.notBefore);
    if (!newest || notAfter > newest.notAfter || (notAfter === newest.notAfter && notBefore > newest.notBefore)) {
      newest = { suite: verified.suite ?? 'x25519', notAfter, notBefore };
    }
  }
  return newest?.suite ?? null;
}
