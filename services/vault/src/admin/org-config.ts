/**
 * A key-admin changes the suite the org's new keys are made in (issue 15, item 3). The vault
 * stores the new configuration only if it verifies under the stored trust root for this org key,
 * is newer than the stored one (each update is a new version) and moves no X-Wing org back to
 * X25519. Audited with the suites and the version. The data keys already made are untouched:
 * the next pre-generation or rotation makes keys in the new suite, and `coffer reseal --suite`
 * moves the records.
 */
import { type OrgConfig, orgConfigVersion, PublicKey, verifyOrgConfig } from '@coffer/crypto';
import type { AdminRequest } from '@coffer/protocol';
import type postgres from 'postgres';
import { auditOrRefuse } from './records.ts';
import { AdminError, type AdminHandlers, type OpContext } from './router.ts';

export function orgConfigHandlers(sql: postgres.Sql): Pick<AdminHandlers, 'org.config.store'> {
  return { 'org.config.store': (req, ctx) => store(sql, req, ctx) };
}

async function store(sql: postgres.Sql, req: AdminRequest<'org.config.store'>, ctx: OpContext<'org.config.store'>) {
  return sql.begin(async (tx) => {
    const [org] = await tx<
      { org_key_id: string; trust_root: string; config: unknown; config_signature: string | null }[]
    >`
      SELECT org_key_id, trust_root, config, config_signature FROM org FOR UPDATE`;
    if (!org) throw new AdminError('conflict', 'the vault is not initialised');
    const trustRoot = PublicKey.fromBase64url('ed25519', org.trust_root);
    let next: OrgConfig;
    try {
      next = verifyOrgConfig(trustRoot, req.config, req.signature);
    } catch {
      throw new AdminError('bad-signature', 'the org configuration is not signed by the org key');
    }
    if (next.orgKeyId !== org.org_key_id)
      throw new AdminError('bad-signature', 'the configuration names another org key');
    let stored: OrgConfig | null = null;
    if (org.config !== null || org.config_signature !== null) {
      try {
        stored = verifyOrgConfig(trustRoot, org.config, org.config_signature ?? '');
      } catch {
        throw new AdminError('bad-signature', 'the stored org configuration is not signed by the org key');
      }
    }
    const fromSuite = stored?.suite ?? 'x25519';
    const fromVersion = stored ? orgConfigVersion(stored) : 0;
    if (fromSuite === 'xwing' && next.suite === 'x25519') {
      throw new AdminError('conflict', 'the org is X-Wing: it is never moved back to x25519');
    }
    if (orgConfigVersion(next) <= fromVersion) {
      throw new AdminError('conflict', 'the configuration is not newer than the stored one');
    }
    await tx`UPDATE org SET config = ${tx.json(req.config as never)}, config_signature = ${req.signature}`;
    await auditOrRefuse(
      tx,
      {
        actor: ctx.caller.userId,
        action: 'org.config',
        target: org.org_key_id,
        outcome: 'success',
        origin: req.origin,
        details: { fromSuite, suite: next.suite, version: orgConfigVersion(next) },
      },
      ctx.now,
    );
    return { suite: next.suite, version: orgConfigVersion(next), changed: fromSuite !== next.suite };
  });
}
