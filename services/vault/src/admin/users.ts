/**
 * People, from the vault's side: invites (token hash only, single use, 24 h), acceptance (the
 * admin plane made the keys; the vault stores verifier, public key and wrapped private key),
 * confirmation (certificate checked against the stored trust root; auditors receive no data key),
 * revocation and reset. Every step is audited.
 */
import { PublicKey, userCertificateOf, verifyUserCertificate } from '@coffer/crypto';
import { type AdminRequest, newRecordId, type Role, type UserStatus } from '@coffer/protocol';
import type postgres from 'postgres';
import { inviterOrgKey, storedInvitation, usersInvitation } from './invitations.ts';
import { mePassword } from './me-password.ts';
import { auditOrRefuse, sessionMaterial } from './records.ts';
import { latestRevocations, retireFutureKeys, storeNextRevocations } from './revocations.ts';
import { AdminError, type AdminHandlers, type OpContext } from './router.ts';
import { requireKeyOfOrgSuite, suiteMaterial } from './suite-material.ts';

export const INVITE_MS = 24 * 60 * 60 * 1000;

/**
 * Inside a revoke or reset: lock the caller's and the target's rows (in id order, so two
 * key-admins acting on each other cannot deadlock or both succeed), check the caller is still an
 * active key-admin, and refuse to remove the last one.
 */
async function lockCallerAndTarget(tx: postgres.TransactionSql, callerId: string, targetId: string) {
  const rows = await tx<{ id: string; role: string; status: string }[]>`
    SELECT id, role, status FROM users WHERE id::text IN (${callerId}, ${targetId}) ORDER BY id FOR UPDATE`;
  const caller = rows.find((r) => r.id === callerId);
  const target = rows.find((r) => r.id === targetId);
  if (caller?.status !== 'active' || caller.role !== 'key-admin') {
    throw new AdminError('forbidden', 'the caller is no longer an active key-admin');
  }
  if (!target) throw new AdminError('not-found', 'no such user');
  if (target.role === 'key-admin' && target.status === 'active') {
    const [others] = await tx<{ n: number }[]>`SELECT count(*)::int AS n FROM users
      WHERE role = 'key-admin' AND status = 'active' AND id::text <> ${targetId}`;
    if (!others?.n) throw new AdminError('conflict', 'this is the last active key-admin');
  }
  return target;
}

type UserOps =
  | 'users.invite'
  | 'users.invitation'
  | 'invites.lookup'
  | 'invites.accept'
  | 'users.confirm-material'
  | 'users.confirm'
  | 'users.revoke'
  | 'users.reset'
  | 'me.password';

export function userHandlers(sql: postgres.Sql): Pick<AdminHandlers, UserOps> {
  return {
    'users.invite': (req, ctx) => usersInvite(sql, req, ctx),

    // issue 9 item 1: the invitation the key-admin signed, stored with the invited user.
    'users.invitation': (req, ctx) => usersInvitation(sql, req, ctx),

    'invites.lookup': (req, ctx) => invitesLookup(sql, req, ctx),

    'invites.accept': (req, ctx) => invitesAccept(sql, req, ctx),

    'users.confirm-material': (req, ctx) => usersConfirmMaterial(sql, req, ctx),

    'users.confirm': (req, ctx) => usersConfirm(sql, req, ctx),

    'users.revoke': (req, ctx) => usersRevoke(sql, req, ctx),

    'users.reset': (req, ctx) => usersReset(sql, req, ctx),

    'me.password': (req, ctx) => mePassword(sql, req, ctx), // me-password.ts
  };
}

async function usersInvite(
  sql: postgres.Sql,
  req: AdminRequest<'users.invite'>,
  { now, caller }: OpContext<'users.invite'>,
) {
  const id = newRecordId();
  const expiresAt = new Date(now.getTime() + INVITE_MS);
  const signWith = await inviterOrgKey(sql, caller); // issue 9 item 1: to sign the invitation
  return sql.begin(async (tx) => {
    const [taken] = await tx`SELECT 1 FROM users WHERE lower(email) = lower(${req.email})`;
    if (taken) throw new AdminError('conflict', 'a user with this email exists');
    await tx`INSERT INTO users (id, email, role, status) VALUES (${id}, ${req.email}, ${req.role}, 'invited')`;
    await tx`INSERT INTO invites (token_hash, user_id, expires_at) VALUES (${req.inviteHash}, ${id}, ${expiresAt})`;
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: 'user.invite',
        target: id,
        outcome: 'success',
        origin: req.origin,
        details: { role: req.role },
      },
      now,
    );
    return { id, expiresAt: expiresAt.toISOString(), ...signWith };
  });
}

async function invitesLookup(
  sql: postgres.Sql,
  req: AdminRequest<'invites.lookup'>,
  { now }: OpContext<'invites.lookup'>,
) {
  const [row] = await sql<{ user_id: string; email: string; role: Role; key_version: number | null }[]>`
    SELECT i.user_id, u.email, u.role, u.key_version FROM invites i JOIN users u ON u.id = i.user_id
    WHERE i.token_hash = ${req.inviteHash} AND i.used_at IS NULL AND i.expires_at > ${now} AND u.status = 'invited'`;
  if (!row) throw new AdminError('not-found', 'no such invite, or it was used or has expired');
  // The new key's version: its AAD under the KEK names it, so an old wrapped key never fits. The
  // org's suite says which kind of key the admin plane makes (issue 15).
  return {
    userId: row.user_id,
    email: row.email,
    role: row.role,
    keyVersion: (row.key_version ?? 0) + 1,
    ...(await suiteMaterial(sql)),
  };
}

async function invitesAccept(
  sql: postgres.Sql,
  req: AdminRequest<'invites.accept'>,
  { now }: OpContext<'invites.accept'>,
) {
  return sql.begin(async (tx) => {
    const [invite] = await tx<{ user_id: string }[]>`UPDATE invites SET used_at = ${now}
      WHERE token_hash = ${req.inviteHash} AND used_at IS NULL AND expires_at > ${now} RETURNING user_id`;
    if (!invite) throw new AdminError('not-found', 'no such invite, or it was used or has expired');
    await requireKeyOfOrgSuite(tx, req.publicKey); // issue 15: no X25519 person in an X-Wing org
    const [user] = await tx`UPDATE users SET status = 'unconfirmed', password_verifier = ${req.verifier},
        key_version = ${req.keyVersion}, public_key = ${req.publicKey},
        wrapped_private_key = ${Buffer.from(req.wrappedPrivateKey, 'base64')}, certificate_signature = NULL,
        failed_signins = 0, locked_until = NULL
      WHERE id = ${invite.user_id} AND status = 'invited' AND COALESCE(key_version, 0) + 1 = ${req.keyVersion}
      RETURNING key_version`;
    if (!user) throw new AdminError('conflict', 'the invited user changed meanwhile; start again');
    await auditOrRefuse(
      tx,
      {
        actor: invite.user_id,
        action: 'invite.accept',
        target: invite.user_id,
        outcome: 'success',
        origin: req.origin,
      },
      now,
    );
    return { userId: invite.user_id, keyVersion: user.key_version as number };
  });
}

async function usersConfirmMaterial(
  sql: postgres.Sql,
  req: AdminRequest<'users.confirm-material'>,
  { caller }: OpContext<'users.confirm-material'>,
) {
  const [user] = await sql<{ id: string; email: string; role: Role; status: UserStatus; public_key: string | null }[]>`
    SELECT id, email, role, status, public_key FROM users WHERE id::text = ${req.userId}`;
  if (!user?.public_key || user.status !== 'unconfirmed') {
    throw new AdminError('conflict', 'only a user who accepted an invite and is not yet confirmed can be confirmed');
  }
  const [org] = await sql<{ org_key_id: string; wrapped: Buffer | null }[]>`
    SELECT o.org_key_id, w.wrapped FROM org o LEFT JOIN wrapped_keys w ON w.key_kind = 'org'
      AND w.key_id = o.org_key_id AND w.recipient_kind = 'user' AND w.recipient_id = ${caller.userId}`;
  if (!org?.wrapped) throw new AdminError('no-access', 'this key-admin holds no copy of the org key');
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
    orgKeyId: org.org_key_id,
    orgKey: org.wrapped.toString('base64'),
    dataKeys: dataKeys.map((k) => ({ keyId: k.key_id, wrapped: k.wrapped.toString('base64') })),
    session: sessionMaterial(caller),
    revocations: await latestRevocations(sql), // issue 15 item 2
  };
}

async function usersConfirm(
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
      ...req.dataKeys.map((k) => ({
        key_kind: 'data',
        key_id: k.keyId,
        wrapped: Buffer.from(k.wrapped, 'base64'),
      })),
      ...(req.orgKey ? [{ key_kind: 'org', key_id: org.org_key_id, wrapped: Buffer.from(req.orgKey, 'base64') }] : []),
    ].map((c) => ({ ...c, recipient_kind: 'user', recipient_id: user.id }));
    if (copies.length) {
      await tx`INSERT INTO wrapped_keys ${tx(copies, 'key_kind', 'key_id', 'recipient_kind', 'recipient_id', 'wrapped')}
        ON CONFLICT (key_kind, key_id, recipient_id) DO UPDATE SET wrapped = EXCLUDED.wrapped`;
    }
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

async function usersRevoke(
  sql: postgres.Sql,
  req: AdminRequest<'users.revoke'>,
  { now, caller }: OpContext<'users.revoke'>,
) {
  if (req.userId === caller.userId) throw new AdminError('conflict', 'a key-admin cannot revoke themselves');
  await sql.begin(async (tx) => {
    await lockCallerAndTarget(tx, caller.userId, req.userId);
    // The certificate goes too: a row flipped back to 'active' by a database writer has
    // nothing that would make the admin plane wrap a new key to it.
    const [user] = await tx`UPDATE users SET status = 'revoked', wrapped_private_key = NULL, password_verifier = NULL,
        totp_sealed = NULL, totp_pending = NULL, certificate_signature = NULL, public_key = NULL
      WHERE id::text = ${req.userId} AND status <> 'revoked' RETURNING id`;
    if (!user) throw new AdminError('not-found', 'no such user');
    // issue 15, item 2: the signed list names the person, in the same transaction.
    const counter = await storeNextRevocations(tx, req.revocations, { userId: req.userId, publicKey: null });
    const keys =
      await tx`DELETE FROM wrapped_keys WHERE recipient_kind = 'user' AND recipient_id = ${req.userId} RETURNING key_id`;
    // issue 15, item 1: keys of windows not yet begun, which they could have saved, are destroyed.
    const retired = keys.length ? await retireFutureKeys(tx, now) : 0;
    const sessions = await tx`DELETE FROM sessions WHERE user_id = ${user.id} RETURNING id`;
    await tx`DELETE FROM invites WHERE user_id = ${user.id}`;
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: 'user.revoke',
        target: req.userId,
        outcome: 'success',
        origin: req.origin,
        details: { wrappedKeys: keys.length, sessions: sessions.length, retiredKeys: retired, revocationList: counter },
      },
      now,
    );
  });
}

async function usersReset(
  sql: postgres.Sql,
  req: AdminRequest<'users.reset'>,
  { now, caller }: OpContext<'users.reset'>,
) {
  if (req.userId === caller.userId) throw new AdminError('conflict', 'a key-admin cannot reset themselves');
  const expiresAt = new Date(now.getTime() + INVITE_MS);
  return sql.begin(async (tx) => {
    await lockCallerAndTarget(tx, caller.userId, req.userId);
    // Only a certified (active) key could have received data keys: that is the one to list.
    const [before] = await tx<{ public_key: string | null; holds: boolean }[]>`
      SELECT public_key, (status = 'active' AND role IN ('viewer', 'key-admin')) AS holds
      FROM users WHERE id::text = ${req.userId}`;
    const oldKey = before?.public_key && before.holds ? { userId: req.userId, publicKey: before.public_key } : null;
    const counter = await storeNextRevocations(tx, req.revocations, oldKey);
    const [user] = await tx`UPDATE users SET status = 'invited', password_verifier = NULL, wrapped_private_key = NULL,
        public_key = NULL, certificate_signature = NULL, confirmed_at = NULL,
        totp_sealed = NULL, totp_pending = NULL, totp_last_step = NULL
      WHERE id::text = ${req.userId} AND status IN ('active', 'unconfirmed') RETURNING id`;
    if (!user) throw new AdminError('not-found', 'no such user');
    const keys = await tx`DELETE FROM wrapped_keys WHERE recipient_kind = 'user' AND recipient_id = ${req.userId}
      RETURNING key_id`;
    const retired = keys.length ? await retireFutureKeys(tx, now) : 0;
    await tx`DELETE FROM sessions WHERE user_id = ${user.id}`;
    await tx`DELETE FROM invites WHERE user_id = ${user.id}`;
    await tx`DELETE FROM totp_enrol_codes WHERE user_id = ${user.id}`;
    await tx`UPDATE users SET totp_pending_authorised = false WHERE id = ${user.id}`;
    await tx`INSERT INTO invites (token_hash, user_id, expires_at) VALUES (${req.inviteHash}, ${user.id}, ${expiresAt})`;
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: 'user.reset',
        target: req.userId,
        outcome: 'success',
        origin: req.origin,
        details: { wrappedKeys: keys.length, retiredKeys: retired, revocationList: counter },
      },
      now,
    );
    return { id: user.id, expiresAt: expiresAt.toISOString() };
  });
}
