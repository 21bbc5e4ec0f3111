/**
 * Which suite the org's new keys are made in: what the org's signed configuration says, checked
 * against the pinned trust root. The configuration row is the database's, so it is not trusted:
 * an altered or foreign one is refused, and a missing one means X25519 (an org made before suites
 * existed) only while no org-signed data key is X-Wing — a database writer who deletes
 * the configuration of an X-Wing org is refused, not obeyed.
 *
 * Suites only move forward (the vault's org-config refuses a move back), so any org-signed X-Wing
 * data key the vault sends is the floor: X25519 is refused while one exists, whatever the signed
 * windows say. A database writer can roll rows back (re-insert destroyed X25519 keys from a backup,
 * delete unused future X-Wing ones, stretch a `not_after` column), but cannot forge an X-Wing
 * bundle away: a used X-Wing key cannot be deleted (records refer to it) and the vault sends one
 * chosen by its signed content. Every bundle must verify (a tampered one refuses, it might be the
 * X-Wing one), and a bundle id sent twice is refused (a row copied over another).
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
  /**
   * Data keys' bundles as signed, a bounded set (the newest by window, and one X-Wing key chosen by
   * its signed content if any exists): any X-Wing one among them is the suite floor.
   */
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
  const floor = strongestKeySuite(trustRoot, material);
  if (floor !== null && floor !== 'x25519') {
    throw new SuiteRefused(`${why} but an org-signed data key is ${floor}: refusing to downgrade`);
  }
}

/**
 * The strongest suite among the org-signed data keys the vault sent (X-Wing if any is), null before
 * any. Every bundle must verify: one that does not is tampered with, and it might be the X-Wing one.
 */
function strongestKeySuite(trustRoot: PublicKey<'ed25519'>, material: SuiteMaterial): BundleSuite | null {
  const bundles = material.dataKeyBundles ?? (material.newestKey ? [material.newestKey] : []);
  const seen = new Set<string>();
  let strongest: BundleSuite | null = null;
  for (const b of bundles) {
    let verified: DataKeyBundle;
    try {
      verified = verifyDataKeyBundle(trustRoot, b.bundle, b.signature, ['x25519', 'xwing']);
    } catch (err) {
      throw new SuiteRefused(`a data key does not verify: ${(err as Error).message}`);
    }
    if (seen.has(verified.id)) throw new SuiteRefused('a data key is sent twice: its rows were copied');
    seen.add(verified.id);
    const suite = verified.suite ?? 'x25519';
    if (suite !== 'x25519') strongest = suite;
    else strongest ??= suite;
  }
  return strongest;
}
