/**
 * Data keys, from the vault's side: metadata for key-admins, the material a key-admin's session
 * needs to make the next keys, and storing them — after checking every signature against the
 * stored trust root. The vault itself never makes a key.
 */
import {
  type BundleSuite,
  isRevoked,
  PublicKey,
  userCertificateOf,
  verifyDataKeyBundle,
  verifyUserCertificate,
} from '@coffer/crypto';
import type { AdminRequest, OrgConfigJson, Role } from '@coffer/protocol';
import type postgres from 'postgres';
import { requireCompleteKeyStore } from './keys-store-integrity.ts';
import { auditOrRefuse, sessionMaterial } from './records.ts';
import { latestRevocations, retireFutureKeys, verifiedRevocations } from './revocations.ts';
import { AdminError, type AdminHandlers, type OpContext } from './router.ts';
import { signedBundles, storedSuite } from './suite-material.ts';
import { insertWrappedKeys } from './wrapped-keys.ts';

const MAX_HORIZON_MS = 2 * 366 * 24 * 60 * 60 * 1000;

export function keyHandlers(
  sql: postgres.Sql,
  onStored: () => Promise<void>,
): Pick<AdminHandlers, 'keys.list' | 'keys.material' | 'keys.store'> {
  return {
    'keys.list': (_req, ctx) => keysList(sql, _req, ctx),

    'keys.material': (_req, ctx) => keysMaterial(sql, _req, ctx),

    'keys.store': (req, ctx) => keysStore(sql, req, ctx, onStored),
  };
}

async function keysList(sql: postgres.Sql, _req: AdminRequest<'keys.list'>, { now }: OpContext<'keys.list'>) {
  const rows = await sql<
    {
      id: string;
      public_key: string;
      not_before: Date;
      not_after: Date;
      retired_at: Date | null;
      records: string;
      copies: string;
    }[]
  >`
    SELECT d.id, d.public_key, d.not_before, d.not_after, d.retired_at,
      (SELECT count(*) FROM records r WHERE r.data_key_id = d.id) AS records,
      (SELECT count(*) FROM wrapped_keys w WHERE w.key_kind = 'data' AND w.key_id = d.id) AS copies
    FROM data_keys d ORDER BY d.not_before`;
  return {
    items: rows.map((r) => ({
      id: r.id,
      publicKey: r.public_key,
      notBefore: r.not_before.toISOString(),
      notAfter: r.not_after.toISOString(),
      current: r.not_before <= now && now < r.not_after && r.retired_at === null,
      records: Number(r.records),
      wrappedCopies: Number(r.copies),
    })),
  };
}

async function keysMaterial(
  sql: postgres.Sql,
  _req: AdminRequest<'keys.material'>,
  { caller }: OpContext<'keys.material'>,
) {
  const [org] = await sql<
    {
      org_key_id: string;
      recovery_key_id: string;
      recovery_public_key: string;
      recovery_certificate: string | null;
      config: unknown;
      config_signature: string | null;
      wrapped: Buffer | null;
    }[]
  >`
    SELECT o.org_key_id, o.recovery_key_id, o.recovery_public_key, o.recovery_certificate,
           o.config, o.config_signature, w.wrapped FROM org o
    LEFT JOIN wrapped_keys w ON w.key_kind = 'org' AND w.key_id = o.org_key_id
      AND w.recipient_kind = 'user' AND w.recipient_id = ${caller.userId}`;
  if (!org?.wrapped) throw new AdminError('no-access', 'this key-admin holds no copy of the org key');
  const recipients = await sql<{ id: string; role: Role; public_key: string; certificate_signature: string | null }[]>`
    SELECT id, role, public_key, certificate_signature FROM users
    WHERE status = 'active' AND role IN ('viewer', 'key-admin') AND public_key IS NOT NULL ORDER BY id`;
  const [last] = await sql<{ last: Date | null }[]>`SELECT max(not_after) AS last FROM data_keys`;
  return {
    orgKeyId: org.org_key_id,
    // Passed on as stored: the admin plane verifies both against the pinned trust root.
    config:
      org.config && org.config_signature
        ? { config: org.config as OrgConfigJson, signature: org.config_signature }
        : null,
    ...(await signedBundles(sql)),
    orgKey: org.wrapped.toString('base64'),
    recovery: {
      id: org.recovery_key_id,
      publicKey: org.recovery_public_key,
      certificate: org.recovery_certificate,
    },
    recipients: recipients.map((r) => ({
      id: r.id,
      role: r.role,
      publicKey: r.public_key,
      certificateSignature: r.certificate_signature,
    })),
    lastNotAfter: last?.last?.toISOString() ?? null,
    session: sessionMaterial(caller),
    revocations: await latestRevocations(sql), // issue 15 item 2
  };
}

async function keysStore(
  sql: postgres.Sql,
  req: AdminRequest<'keys.store'>,
  { now, caller }: OpContext<'keys.store'>,
  onStored: () => Promise<void>,
) {
  const [org] = await sql<
    { trust_root: string; recovery_key_id: string; config: unknown; config_signature: string | null }[]
  >`SELECT trust_root, recovery_key_id, config, config_signature FROM org`;
  if (!org) throw new AdminError('conflict', 'the vault is not initialised');
  const trustRoot = PublicKey.fromBase64url('ed25519', org.trust_root);
  const suite = storedSuite(trustRoot, org);
  for (const k of req.dataKeys) {
    let keySuite: BundleSuite;
    try {
      keySuite = verifyDataKeyBundle(trustRoot, k.bundle, k.signature, ['x25519', 'xwing']).suite ?? 'x25519';
    } catch {
      throw new AdminError('bad-signature', `data key ${k.bundle.id} is not signed by the org key`);
    }
    if (keySuite !== suite) {
      throw new AdminError('conflict', `data key ${k.bundle.id} is ${keySuite}, not the org's suite ${suite}`);
    }
    if (Date.parse(k.bundle.notAfter) > now.getTime() + MAX_HORIZON_MS) {
      throw new AdminError('conflict', 'data keys may reach at most two years ahead');
    }
  }
  await sql.begin(async (tx) => {
    // The vault checks the recipients itself, inside the transaction: only active, certified
    // viewers and key-admins, and the org's own recovery key — whatever the admin plane sent.
    const certified = await certifiedUsers(
      tx,
      trustRoot,
      req.dataKeys.flatMap((k) => k.copies.filter((c) => c.recipientKind === 'user').map((c) => c.recipientId)),
    );
    for (const k of req.dataKeys) {
      for (const c of k.copies) {
        const ok = c.recipientKind === 'user' ? certified.has(c.recipientId) : c.recipientId === org.recovery_key_id;
        if (!ok) throw new AdminError('bad-request', `recipient ${c.recipientId} may not receive a data key`);
      }
    }
    const retired = req.rotate ? await rotateFrom(tx, req.dataKeys, now) : 0;
    // issue 9 item 2: a recovery copy, a copy per certified holder, no overlapping window.
    await requireCompleteKeyStore(tx, trustRoot, org.recovery_key_id, req.dataKeys);
    for (const k of req.dataKeys) {
      await tx`INSERT INTO data_keys (id, public_key, not_before, not_after, bundle, signature)
        VALUES (${k.bundle.id}, ${k.bundle.publicKey}, ${k.bundle.notBefore}, ${k.bundle.notAfter}, ${tx.json(k.bundle)}, ${k.signature})`;
      const copies = k.copies.map((c) => ({
        key_kind: 'data',
        key_id: k.bundle.id,
        recipient_kind: c.recipientKind,
        recipient_id: c.recipientId,
        wrapped: Buffer.from(c.wrapped, 'base64'),
      }));
      await insertWrappedKeys(tx, copies);
    }
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: req.rotate ? 'keys.rotate' : 'keys.pregenerate',
        target: req.dataKeys.map((k) => k.bundle.id).join(','),
        outcome: 'success',
        origin: req.origin,
        details: {
          count: req.dataKeys.length,
          recipients: req.dataKeys[0]?.copies.length ?? 0,
          ...(req.rotate ? { retired } : {}),
        },
      },
      now,
    );
  });
  await onStored();
  return { stored: req.dataKeys.length };
}

/** How far a rotation's first window may begin from the vault's clock (the admin plane's clock differs a little). */
const ROTATE_SKEW_MS = 5 * 60 * 1000;

/**
 * A rotation (issue 15, item 1): the first new window begins now; windows not yet begun are
 * destroyed and the key covering now is marked superseded (its records stay readable), so the
 * new key is the current one at once. Returns how many keys were destroyed or superseded.
 */
async function rotateFrom(
  tx: postgres.TransactionSql,
  dataKeys: readonly { bundle: { notBefore: string } }[],
  now: Date,
): Promise<number> {
  const first = Math.min(...dataKeys.map((k) => Date.parse(k.bundle.notBefore)));
  if (Math.abs(first - now.getTime()) > ROTATE_SKEW_MS) {
    throw new AdminError('conflict', "a rotation's first data key must begin now");
  }
  const destroyed = await retireFutureKeys(tx, new Date(Math.min(first, now.getTime())));
  const superseded = await tx`UPDATE data_keys SET retired_at = ${now}
    WHERE retired_at IS NULL AND not_after > ${new Date(first)} RETURNING id`;
  return destroyed + superseded.length;
}

/** Of these user ids, the active viewers and key-admins whose certificate verifies (rows locked). */
async function certifiedUsers(
  tx: postgres.TransactionSql,
  trustRoot: PublicKey<'ed25519'>,
  userIds: string[],
): Promise<Set<string>> {
  const ids = [...new Set(userIds)];
  if (!ids.length) return new Set();
  const users = await tx<{ id: string; role: Role; public_key: string; certificate_signature: string | null }[]>`
    SELECT id, role, public_key, certificate_signature FROM users
    WHERE id::text = ANY(${ids}) AND status = 'active' AND role IN ('viewer', 'key-admin') FOR SHARE`;
  const verifies = (u: (typeof users)[number]) => {
    try {
      verifyUserCertificate(
        trustRoot,
        userCertificateOf({ id: u.id, role: u.role, publicKey: u.public_key }),
        u.certificate_signature ?? '',
        ['x25519', 'xwing'],
      );
      return true;
    } catch {
      return false;
    }
  };
  // issue 15 item 2: nobody on the signed revocation list, whatever their row says.
  const revoked = await verifiedRevocations(tx, trustRoot);
  return new Set(users.filter((u) => verifies(u) && !isRevoked(revoked, u.id, u.public_key)).map((u) => u.id));
}
