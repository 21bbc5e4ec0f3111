/**
 * The org's suite as stored (issue 15): its signed configuration and data keys' bundles, passed on
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

/** How many of the newest data keys' bundles are sent (F4: every key's would outgrow a bus message). */
export const NEWEST_BUNDLES = 16;

/**
 * A bounded set of data keys' bundles as signed (at most NEWEST_BUNDLES + 3, whatever the number of
 * keys), for the admin plane's suite floor (orgSuite: any X-Wing one among them is the floor):
 * - the NEWEST_BUNDLES newest by the `not_after` column;
 * - one X-Wing key chosen by what the signature covers (`bundle->>'suite'`, and the bundle's id is
 *   its row's), one that records use first: a database writer cannot delete it (records refer to
 *   it) nor edit its bundle (the signature would fail), so rolling rows back cannot hide it;
 * - the newest key records use, whatever its bundle says: an X-Wing bundle edited to hide it no
 *   longer verifies, and the admin plane refuses;
 * - one row whose bundle names another id, if any (a genuine bundle moved onto a used row).
 * Each bundle is sent with its row's id in it: for a genuine row that is the bundle as signed; for a
 * moved one the signature fails, and the admin plane refuses (or `coffer recover` takes X-Wing).
 * `newestKey`: for an admin plane that predates `dataKeyBundles`, the newest by `not_after`.
 */
export async function signedBundles(sql: postgres.Sql) {
  const rows = await sql<{ bundle: DataKeyBundleJson; signature: string; newest: boolean }[]>`
    WITH newest AS (
      SELECT id, true AS newest FROM data_keys ORDER BY not_after DESC, not_before DESC LIMIT ${NEWEST_BUNDLES}
    ), xwing AS (
      SELECT id, false AS newest FROM data_keys d
      WHERE d.bundle->>'suite' = 'xwing' AND d.bundle->>'id' = d.id
      ORDER BY EXISTS (SELECT 1 FROM records r WHERE r.data_key_id = d.id) DESC, d.not_after DESC LIMIT 1
    ), used AS (
      SELECT id, false AS newest FROM data_keys d WHERE EXISTS (SELECT 1 FROM records r WHERE r.data_key_id = d.id)
      ORDER BY d.not_after DESC LIMIT 1
    ), moved AS (
      SELECT id, false AS newest FROM data_keys WHERE bundle->>'id' IS DISTINCT FROM id LIMIT 1
    ), chosen AS (
      SELECT id, bool_or(newest) AS newest FROM (SELECT * FROM newest UNION ALL SELECT * FROM xwing
        UNION ALL SELECT * FROM used UNION ALL SELECT * FROM moved) c GROUP BY id
    )
    SELECT CASE WHEN jsonb_typeof(d.bundle) = 'object' THEN jsonb_set(d.bundle, '{id}', to_jsonb(d.id))
      ELSE d.bundle END AS bundle, d.signature, c.newest
    FROM chosen c JOIN data_keys d ON d.id = c.id ORDER BY d.not_after, d.not_before`;
  const dataKeyBundles = rows.map((r) => ({ bundle: r.bundle, signature: r.signature }));
  const newest = rows.filter((r) => r.newest).at(-1);
  return {
    newestKey: newest ? { bundle: newest.bundle, signature: newest.signature } : null,
    dataKeyBundles,
  };
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
