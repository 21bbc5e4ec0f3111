/**
 * Confirming a person who accepted an invite: what the key-admin's session needs (their key, the
 * caller's copies, the signed invitation and revocation list), then the certificate checked
 * against the stored trust root and the keys wrapped to them stored. Auditors receive no data key.
 */
import { PublicKey, userCertificateOf, verifyUserCertificate } from '@coffer/crypto';
import type { AdminRequest, Role, UserStatus } from '@coffer/protocol';
import type postgres from 'postgres';
import { callerOrgKey, storedInvitation } from './invitations.ts';
import { auditOrRefuse } from './records.ts';
import { latestRevocations } from './revocations.ts';
import { AdminError, type OpContext } from './router.ts';
import { copyToUser, insertWrappedKeys } from './wrapped-keys.ts';

export async function usersConfirmMaterial(
  sql: postgres.Sql,
  req: AdminRequest<'users.confirm-material'>,
  { caller }: OpContext<'users.confirm-material'>,
) {
  const [user] = await sql<{ id: string; email: string; role: Role; status: UserStatus; public_key: string | null }[]>`
    SELECT id, email, role, status, public_key FROM users WHERE id::text = ${req.userId}`;
  if (!user?.public_key || user.status !== 'unconfirmed') {
    throw new AdminError('conflict', 'only a user who accepted an invite and is not yet confirmed can be confirmed');
  }
  const org = await callerOrgKey(sql, caller);
  const dataKeys = await sql<{ key_id: string; wrapped: Buffer }[]>`
    SELECT w.key_id, w.wrapped FROM wrapped_keys w JOIN data_keys d ON d.id = w.key_id
    WHERE w.key_kind = 'data' AND w.recipient_kind = 'user' AND w.recipient_id = ${caller.userId}
    ORDER BY d.not_before`;
  return {
    user: {
      id: user.id,
      email: user.email,
      role: user.role,
      status: user.status,
      publicKey: user.public_key,
      invitation: await storedInvitation(sql, user.id), // issue 9 item 1
    },
    orgKeyId: org.orgKeyId,
    orgKey: org.orgKey,
    dataKeys: dataKeys.map((k) => ({ keyId: k.key_id, wrapped: k.wrapped.toString('base64') })),
    session: org.session,
    revocations: await latestRevocations(sql), // issue 15 item 2
  };
}

export async function usersConfirm(
  sql: postgres.Sql,
  req: AdminRequest<'users.confirm'>,
  { now, caller }: OpContext<'users.confirm'>,
) {
  return sql.begin(async (tx) => {
    const [user] = await tx<{ id: string; role: Role; status: UserStatus; public_key: string }[]>`
      SELECT id, role, status, public_key FROM users WHERE id::text = ${req.userId} FOR UPDATE`;
    if (user?.status !== 'unconfirmed') throw new AdminError('conflict', 'this user is not awaiting confirmation');
    const [org] = await tx<{ trust_root: string; org_key_id: string }[]>`SELECT trust_root, org_key_id FROM org`;
    if (!org) throw new AdminError('conflict', 'the vault is not initialised');
    try {
      verifyUserCertificate(
        PublicKey.fromBase64url('ed25519', org.trust_root),
        userCertificateOf({ id: user.id, role: user.role, publicKey: user.public_key }),
        req.certificateSignature,
        ['x25519', 'xwing'],
      );
    } catch {
      throw new AdminError('bad-signature', 'the certificate does not verify under the trust root');
    }
    // Auditors read metadata only: they never hold a data key, so no check bypass can give them a value.
    if (user.role === 'auditor' && (req.dataKeys.length > 0 || req.orgKey)) {
      throw new AdminError('bad-request', 'an auditor receives no keys');
    }
    if (user.role !== 'key-admin' && req.orgKey)
      throw new AdminError('bad-request', 'only key-admins hold the org key');
    const copies = [
      ...req.dataKeys.map((k) => ({ kind: 'data', id: k.keyId, wrapped: k.wrapped })),
      ...(req.orgKey ? [{ kind: 'org', id: org.org_key_id, wrapped: req.orgKey }] : []),
    ].map((c) => copyToUser(user.id, c));
    await insertWrappedKeys(tx, copies, 'replace');
    await tx`UPDATE users SET status = 'active', certificate_signature = ${req.certificateSignature}, confirmed_at = ${now}
      WHERE id = ${user.id}`;
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: 'user.confirm',
        target: user.id,
        outcome: 'success',
        origin: req.origin,
        details: { role: user.role, dataKeys: req.dataKeys.length, orgKey: req.orgKey !== undefined },
      },
      now,
    );
    return { wrappedKeys: copies.length };
  });
}
