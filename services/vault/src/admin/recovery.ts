/**
 * Break-glass recovery, from the vault's side. Whoever holds the admin bus credential may ask;
 * only someone who rebuilt the recovery key from k shares can answer the challenge sealed to it,
 * and only the org key (which the recovery key unwraps) can certify the new key-admin.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  PublicKey,
  recipientPublicKey,
  recoveryChallengeBinding,
  seal,
  userCertificateOf,
  verifyUserCertificate,
} from '@coffer/crypto';
import { type AdminRequest, newRecordId } from '@coffer/protocol';
import type postgres from 'postgres';
import { auditOrRefuse } from './records.ts';
import { AdminError, type AdminHandlers, type OpContext } from './router.ts';
import { requireKeyOfOrgSuite, suiteMaterial } from './suite-material.ts';
import { copyToUser, insertWrappedKeys } from './wrapped-keys.ts';

export const CHALLENGE_MS = 10 * 60 * 1000;

/** issue 16 item 4c: hold the recovered keys this long, and say so on the alert subject. */
export interface RecoveryDelay {
  readonly delayMs?: number;
  readonly alert?: (kind: 'recovery', message: { userId: string; email: string; releaseAt: string }) => void;
}

export function recoveryHandlers(
  sql: postgres.Sql,
  delay: RecoveryDelay = {},
): Pick<AdminHandlers, 'recovery.begin' | 'recovery.enrol'> {
  return {
    'recovery.begin': (req, ctx) => recoveryBegin(sql, req, ctx),

    'recovery.enrol': (req, ctx) => recoveryEnrol(sql, req, ctx, delay),
  };
}

async function recoveryBegin(
  sql: postgres.Sql,
  req: AdminRequest<'recovery.begin'>,
  { now }: OpContext<'recovery.begin'>,
) {
  const [org] = await sql<
    {
      trust_root: string;
      org_key_id: string;
      recovery_key_id: string;
      recovery_public_key: string;
      recovery_threshold: number;
    }[]
  >`SELECT trust_root, org_key_id, recovery_key_id, recovery_public_key, recovery_threshold FROM org`;
  if (!org) throw new AdminError('conflict', 'the vault is not initialised');
  // Expired challenges go; an unanswered flood cannot grow the table for long.
  await sql`DELETE FROM recovery_challenges WHERE expires_at <= ${now}`;
  const challengeId = newRecordId();
  const answer = randomBytes(32);
  // X25519 or X-Wing (an org made with X-Wing): the stored key's length names it.
  const sealed = seal(recipientPublicKey(org.recovery_public_key), answer, recoveryChallengeBinding(challengeId));
  await sql`INSERT INTO recovery_challenges (id, answer_hash, expires_at)
    VALUES (${challengeId}, ${createHash('sha256').update(answer).digest('hex')}, ${new Date(now.getTime() + CHALLENGE_MS)})`;
  answer.fill(0);
  await sql.begin((tx) =>
    auditOrRefuse(
      tx,
      {
        actor: 'coffer recover',
        action: 'recovery.begin',
        target: challengeId,
        outcome: 'success',
        origin: req.origin,
      },
      now,
    ),
  );
  const copies = await sql<{ key_kind: string; key_id: string; wrapped: Buffer }[]>`
    SELECT w.key_kind, w.key_id, w.wrapped FROM wrapped_keys w
    LEFT JOIN data_keys d ON w.key_kind = 'data' AND d.id = w.key_id
    WHERE w.recipient_kind = 'recovery' AND w.recipient_id = ${org.recovery_key_id}
      AND (w.key_kind = 'org' OR d.id IS NOT NULL)`;
  const orgCopy = copies.find((c) => c.key_kind === 'org');
  if (!orgCopy) throw new AdminError('conflict', 'the recovery key holds no copy of the org key');
  return {
    challengeId,
    challenge: sealed.toString('base64'),
    trustRoot: org.trust_root,
    recovery: { id: org.recovery_key_id, publicKey: org.recovery_public_key, threshold: org.recovery_threshold },
    orgKeyId: org.org_key_id,
    orgKey: orgCopy.wrapped.toString('base64'),
    dataKeys: copies
      .filter((c) => c.key_kind === 'data')
      .map((c) => ({ keyId: c.key_id, wrapped: c.wrapped.toString('base64') })),
    // issue 15: the org's suite, for the recovered key-admin's key; checked by `coffer recover`
    // (the data keys' bundles too: any X-Wing one is the floor, whatever the unsigned `not_after`).
    ...(({ config, newestKey, dataKeyBundles }) => ({ config, newestKey, dataKeyBundles }))(await suiteMaterial(sql)),
  };
}

async function recoveryEnrol(
  sql: postgres.Sql,
  req: AdminRequest<'recovery.enrol'>,
  { now }: OpContext<'recovery.enrol'>,
  delay: RecoveryDelay,
) {
  const enrolled = await enrol(sql, req, now, delay.delayMs).catch(async (err) => {
    // Failed break-glass attempts are worth an auditor's attention; the attempt rolled back.
    await sql
      .begin((tx) =>
        auditOrRefuse(
          tx,
          {
            actor: 'coffer recover',
            action: 'recovery.enrol',
            target: req.challengeId,
            outcome: 'failure',
            origin: req.origin,
            details: { error: err instanceof AdminError ? err.code : 'internal' },
          },
          now,
        ),
      )
      .catch(() => {});
    throw err;
  });
  if (enrolled.heldUntil) {
    // Every key-admin should hear of it while there is time to cancel (Approvals in the portal).
    delay.alert?.('recovery', { userId: enrolled.userId, email: req.admin.email, releaseAt: enrolled.heldUntil });
  }
  return enrolled;
}

/** Check the answer and the certificate, then store the new key-admin, in one transaction. */
async function enrol(sql: postgres.Sql, req: AdminRequest<'recovery.enrol'>, now: Date, delayMs?: number) {
  return sql.begin(async (tx) => {
    const [challenge] = await tx<{ answer_hash: string }[]>`UPDATE recovery_challenges SET used_at = ${now}
        WHERE id::text = ${req.challengeId} AND used_at IS NULL AND expires_at > ${now} RETURNING answer_hash`;
    const given = createHash('sha256').update(Buffer.from(req.answer, 'base64url')).digest();
    if (!challenge || !timingSafeEqual(given, Buffer.from(challenge.answer_hash, 'hex'))) {
      throw new AdminError('unauthenticated', 'the recovery challenge was not answered');
    }
    const [org] = await tx<{ trust_root: string; org_key_id: string }[]>`SELECT trust_root, org_key_id FROM org`;
    if (!org) throw new AdminError('conflict', 'the vault is not initialised');
    const a = req.admin;
    try {
      verifyUserCertificate(
        PublicKey.fromBase64url('ed25519', org.trust_root),
        userCertificateOf({ id: a.id, role: 'key-admin', publicKey: a.publicKey }),
        a.certificateSignature,
        ['x25519', 'xwing'],
      );
    } catch {
      throw new AdminError('bad-signature', 'the new key-admin certificate does not verify under the trust root');
    }
    await requireKeyOfOrgSuite(tx, a.publicKey); // issue 15: an X-Wing org's key-admin is X-Wing
    const [taken] = await tx`SELECT 1 FROM users WHERE lower(email) = lower(${a.email})`;
    if (taken) throw new AdminError('conflict', 'a user with this email exists (revoked users keep theirs)');
    // issue 9 item 3: a confirmed key-admin gets its authenticator here or from another key-admin.
    const totp = a.totpSealed === undefined ? null : Buffer.from(a.totpSealed, 'base64');
    // issue 16 item 4c: while held, the account is unconfirmed (it may sign in, and nothing else).
    const releaseAt = delayMs ? new Date(now.getTime() + delayMs) : null;
    await tx`INSERT INTO users (id, email, role, status, password_verifier, key_version, public_key,
                                  wrapped_private_key, certificate_signature, confirmed_at, totp_sealed)
        VALUES (${a.id}, ${a.email}, 'key-admin', ${releaseAt ? 'unconfirmed' : 'active'}, ${a.passwordVerifier},
                ${a.keyVersion}, ${a.publicKey}, ${Buffer.from(a.wrappedPrivateKey, 'base64')},
                ${a.certificateSignature}, ${releaseAt ? null : now}, ${totp})`;
    const copies = [
      { kind: 'org', id: org.org_key_id, wrapped: req.orgKey },
      ...req.dataKeys.map((k) => ({ kind: 'data', id: k.keyId, wrapped: k.wrapped })),
    ];
    if (releaseAt) {
      // issue 16 item 4c: the keys wait; releaseRecoveryHolds hands them over at releaseAt.
      await tx`INSERT INTO recovery_holds (user_id, release_at, copies, held_at)
        VALUES (${a.id}, ${releaseAt}, ${tx.json(copies)}, ${now})`;
    } else {
      await insertWrappedKeys(
        tx,
        copies.map((c) => copyToUser(a.id, c)),
      );
    }
    await auditOrRefuse(
      tx,
      {
        actor: 'coffer recover',
        action: 'recovery.enrol',
        target: a.id,
        outcome: 'success',
        origin: req.origin,
        details: {
          email: a.email,
          dataKeys: req.dataKeys.length,
          ...(releaseAt ? { heldUntil: releaseAt.toISOString() } : {}),
        },
      },
      now,
    );
    return { userId: a.id, ...(releaseAt ? { heldUntil: releaseAt.toISOString() } : {}) };
  });
}
