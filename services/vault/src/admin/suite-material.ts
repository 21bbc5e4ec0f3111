/**
 * The org's suite as stored (issue 15): its signed configuration and the newest data key, passed on
 * unverified — the admin plane or the CLI checks both against the trust root it pins (orgSuite) —
 * for whoever makes a person's key without a key-admin session (invite acceptance, recovery).
 */
import type { DataKeyBundleJson, OrgConfigJson } from '@coffer/protocol';
import type postgres from 'postgres';

export async function suiteMaterial(sql: postgres.Sql) {
  const [org] = await sql<{ org_key_id: string; config: unknown; config_signature: string | null }[]>`
    SELECT org_key_id, config, config_signature FROM org`;
  const [newest] = await sql<{ bundle: DataKeyBundleJson; signature: string }[]>`
    SELECT bundle, signature FROM data_keys ORDER BY not_after DESC LIMIT 1`;
  return {
    ...(org ? { orgKeyId: org.org_key_id } : {}),
    config:
      org?.config && org.config_signature
        ? { config: org.config as OrgConfigJson, signature: org.config_signature }
        : null,
    newestKey: newest ? { bundle: newest.bundle, signature: newest.signature } : null,
  };
}
