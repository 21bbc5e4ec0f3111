/**
 * `vault.admin.bootstrap`: store what `coffer init` made — org trust root, recovery public key,
 * the first key-admin and the first data keys with their wrapped copies — in one transaction,
 * once. The vault checks every signature against the trust root in the request before storing,
 * so a malformed ceremony cannot leave a half-trusted state behind.
 */
import {
  PublicKey,
  userCertificateOf,
  verifyDataKeyBundle,
  verifyOrgConfig,
  verifyUserCertificate,
  verifyVaultReplyKey,
} from '@coffer/crypto';
import type { AdminRequest, OrgStatus } from '@coffer/protocol';
import type postgres from 'postgres';
import { appendAudit } from '../audit.ts';
import { AdminError, type AdminHandlers } from './router.ts';
import { insertWrappedKeys } from './wrapped-keys.ts';

const BOOTSTRAP_LOCK = 0x636f66666569; // names the bootstrap lock in pg_locks

export async function isInitialised(sql: postgres.Sql): Promise<boolean> {
  return (await orgStatus(sql)).initialised;
}

/** `vault.admin.status`: whether `coffer init` has run, and the trust root it pinned. */
export async function orgStatus(sql: postgres.Sql): Promise<OrgStatus> {
  const [row] = await sql<{ trust_root: string }[]>`SELECT trust_root FROM org`;
  return { initialised: row !== undefined, trustRoot: row?.trust_root ?? null };
}

/**
 * `status` and `bootstrap`; `onStored` runs after a bootstrap commits (the key status check).
 * `status` names the vault's reply key, for `coffer init` to certify (crypto.md).
 */
export function bootstrapHandlers(
  sql: postgres.Sql,
  onStored: () => Promise<void>,
  replyKey?: string,
): Pick<AdminHandlers, 'status' | 'bootstrap'> {
  return {
    status: async () => ({ ...(await orgStatus(sql)), ...(replyKey ? { replyKey } : {}) }),
    bootstrap: async (req, { now }) => {
      const result = await bootstrap(sql, req, now);
      await onStored();
      return result;
    },
  };
}

async function bootstrap(sql: postgres.Sql, req: AdminRequest<'bootstrap'>, now: Date): Promise<{ trustRoot: string }> {
  let trustRoot: PublicKey<'ed25519'>;
  try {
    trustRoot = PublicKey.fromBase64url('ed25519', req.org.trustRoot);
    const admin = verifyUserCertificate(
      trustRoot,
      userCertificateOf({ id: req.admin.id, role: 'key-admin', publicKey: req.admin.publicKey }),
      req.admin.certificateSignature,
      ['x25519', 'xwing'],
    );
    const recovery = verifyUserCertificate(
      trustRoot,
      userCertificateOf({ id: req.org.recoveryKeyId, role: 'recovery', publicKey: req.org.recoveryPublicKey }),
      req.org.recoveryCertificate,
      ['x25519', 'xwing'],
    );
    // A ceremony names its suite in the signed configuration; its data keys, first key-admin and
    // recovery key must all be of it (issue 15: no X25519 wrap to people in an X-Wing org).
    const { config, configSignature } = req.org;
    if ((config === undefined) !== (configSignature === undefined)) throw new Error('config without its signature');
    const suite = config ? verifyOrgConfig(trustRoot, config, configSignature ?? '').suite : 'x25519';
    if (config && config.orgKeyId !== req.org.orgKeyId) throw new Error('the config names another org key');
    if (admin.key.kind !== suite) throw new Error(`the key-admin's key is not of the org's suite ${suite}`);
    if (recovery.key.kind !== suite) throw new Error(`the recovery key is not of the org's suite ${suite}`);
    for (const k of req.dataKeys) {
      const verified = verifyDataKeyBundle(trustRoot, k.bundle, k.signature, ['x25519', 'xwing']);
      if ((verified.suite ?? 'x25519') !== suite) throw new Error(`a data key is not of the org's suite ${suite}`);
    }
    if (req.vaultReplyKey) verifyVaultReplyKey(trustRoot, req.vaultReplyKey.key, req.vaultReplyKey.certificate);
  } catch (err) {
    throw new AdminError('bad-signature', `bootstrap material does not verify: ${(err as Error).message}`);
  }
  return sql.begin(async (tx) => {
    // Serialise concurrent ceremonies; the singleton primary key would refuse a second row anyway.
    await tx`SELECT pg_advisory_xact_lock(${BOOTSTRAP_LOCK})`;
    const [existing] = await tx`SELECT 1 FROM org`;
    if (existing) throw new AdminError('already-initialised', 'this vault is already initialised');
    const o = req.org;
    await tx`INSERT INTO org (org_key_id, trust_root, recovery_key_id, recovery_public_key, recovery_threshold, recovery_shares, recovery_certificate, config, config_signature)
        VALUES (${o.orgKeyId}, ${o.trustRoot}, ${o.recoveryKeyId}, ${o.recoveryPublicKey}, ${o.recoveryThreshold}, ${o.recoveryShares}, ${o.recoveryCertificate},
                ${o.config ? tx.json(o.config) : null}, ${o.configSignature ?? null})`;
    if (req.vaultReplyKey) {
      await tx`INSERT INTO vault_reply_keys (public_key, certificate)
          VALUES (${req.vaultReplyKey.key}, ${req.vaultReplyKey.certificate})`;
    }
    const a = req.admin;
    const totp = a.totpSealed === undefined ? null : Buffer.from(a.totpSealed, 'base64');
    await tx`INSERT INTO users (id, email, role, status, password_verifier, key_version, public_key,
                                  wrapped_private_key, certificate_signature, confirmed_at, totp_sealed)
        VALUES (${a.id}, ${a.email}, 'key-admin', 'active', ${a.passwordVerifier}, ${a.keyVersion}, ${a.publicKey},
                ${Buffer.from(a.wrappedPrivateKey, 'base64')}, ${a.certificateSignature}, ${now}, ${totp})`;
    const copies = req.orgKeyCopies.map((c) => ({ key_kind: 'org', key_id: o.orgKeyId, ...copyRow(c) }));
    for (const k of req.dataKeys) {
      await tx`INSERT INTO data_keys (id, public_key, not_before, not_after, bundle, signature)
          VALUES (${k.bundle.id}, ${k.bundle.publicKey}, ${k.bundle.notBefore}, ${k.bundle.notAfter},
                  ${tx.json(k.bundle)}, ${k.signature})`;
      copies.push(...k.copies.map((c) => ({ key_kind: 'data', key_id: k.bundle.id, ...copyRow(c) })));
    }
    await insertWrappedKeys(tx, copies);
    await appendAudit(
      tx,
      {
        actor: 'coffer init',
        action: 'org.bootstrap',
        target: o.orgKeyId,
        outcome: 'success',
        details: {
          admin: a.id,
          dataKeys: req.dataKeys.length,
          totp: totp !== null,
          suite: o.config?.suite ?? 'x25519',
          threshold: o.recoveryThreshold,
          shares: o.recoveryShares,
        },
      },
      now,
    );
    return { trustRoot: o.trustRoot };
  });
}

function copyRow(c: { recipientKind: string; recipientId: string; wrapped: string }) {
  return { recipient_kind: c.recipientKind, recipient_id: c.recipientId, wrapped: Buffer.from(c.wrapped, 'base64') };
}
