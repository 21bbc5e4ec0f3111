/**
 * The org's suite as stored (issue 15): its signed configuration and every data key's bundle, passed on
 * unverified — the admin plane or the CLI checks both against the trust root it pins (orgSuite) —
 * for whoever makes a person's key without a key-admin session (invite acceptance, recovery).
 */
import { type BundleSuite, PublicKey, recipientSuiteOf, verifyOrgConfig } from '@coffer/crypto';
import type { DataKeyBundleJson, OrgConfigJson } from '@coffer/protocol';
import type postgres from 'postgres';
import { AdminError } from './router.ts';

export async function suiteMaterial(sql: postgres.Sql) {
  const [org] = await sql<{ org_key_id: string; config: unknown; config_signature: string | null }[]>`
    SELECT org_key_id, config, config_signature FROM org`;
  const bundles = await signedBundles(sql);
  return {
    ...(org ? { orgKeyId: org.org_key_id } : {}),
    config:
      org?.config && org.config_signature
        ? { config: org.config as OrgConfigJson, signature: org.config_signature }
        : null,
    ...bundles,
  };
}

/**
 * Every data key's bundle as signed, for the admin plane to pick the newest by its signed window;
 * and, for an admin plane that predates that, the newest by the `not_after` column.
 */
export async function signedBundles(sql: postgres.Sql) {
  const rows = await sql<{ bundle: DataKeyBundleJson; signature: string }[]>`
    SELECT bundle, signature FROM data_keys ORDER BY not_after`;
  const dataKeyBundles = rows.map((r) => ({ bundle: r.bundle, signature: r.signature }));
  return { newestKey: dataKeyBundles.at(-1) ?? null, dataKeyBundles };
}

/**
 * The org's suite as its stored, org-signed configuration names it (X25519 for an org made before
 * suites). Defence in depth: the admin plane already checked it against the pinned trust root.
 */
export function storedSuite(
  trustRoot: PublicKey<'ed25519'>,
  org: { config: unknown; config_signature: string | null },
): BundleSuite {
  if (org.config === null && org.config_signature === null) return 'x25519';
  try {
    return verifyOrgConfig(trustRoot, org.config, org.config_signature ?? '').suite;
  } catch {
    throw new AdminError('bad-signature', 'the stored org configuration is not signed by the org key');
  }
}

/**
 * A person's new key (an invitee's, a recovered key-admin's) must not be weaker than the org's
 * signed suite: an X25519 key in an X-Wing org is refused, not stored (defence in depth: the admin
 * plane and `coffer recover` make keys in the org's suite). A stored configuration that does not
 * verify does not block a break-glass recovery: it takes the strongest suite, X-Wing, which is what
 * `coffer recover` makes then.
 */
export async function requireKeyOfOrgSuite(tx: postgres.Sql | postgres.TransactionSql, publicKey: string) {
  const [org] = await tx<{ trust_root: string; config: unknown; config_signature: string | null }[]>`
    SELECT trust_root, config, config_signature FROM org`;
  if (!org) throw new AdminError('conflict', 'the vault is not initialised');
  let suite: BundleSuite;
  try {
    suite = storedSuite(PublicKey.fromBase64url('ed25519', org.trust_root), org);
  } catch (err) {
    if (!(err instanceof AdminError)) throw err;
    suite = 'xwing';
  }
  const keySuite = recipientSuiteOf(publicKey);
  if (suite === 'xwing' && keySuite !== 'xwing') {
    throw new AdminError('conflict', `a ${keySuite} key for a person of an org whose suite is ${suite}: refused`);
  }
}
