/**
 * Break-glass delay, the immediate path (issue 16, item 4c): a held recovery is released at once
 * when k recovery shares are presented again AND the org key they unwrap approves that account.
 * `coffer recover --release-now` is a second run, by a second officer, with a challenge of its own
 * begun after the hold was made. The vault cannot tell officers apart (shares carry no name); what
 * it can check is that the answer proves the recovery key, that the approval is the org key's
 * signature over this challenge, this held account and its key's fingerprint (so a bus that saw
 * the answer cannot aim it elsewhere and a replay finds the challenge used), and that the hold was
 * not cancelled. Every key-admin got the hold's alert meanwhile and gets this one too.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { PublicKey, recipientPublicKey, verifyRecoveryRelease } from '@coffer/crypto';
import type { AdminRequest } from '@coffer/protocol';
import type postgres from 'postgres';
import { auditOrRefuse } from './records.ts';
import { CHALLENGE_MS, type RecoveryDelay } from './recovery.ts';
import { type Held, handOver } from './recovery-holds.ts';
import { AdminError, type AdminHandlers } from './router.ts';

export function recoveryReleaseNowHandlers(
  sql: postgres.Sql,
  delay: RecoveryDelay,
): Pick<AdminHandlers, 'recovery.release-now'> {
  return {
    'recovery.release-now': async (req, { now }) => {
      const released = await releaseNow(sql, req, now).catch(async (err) => {
        // A refused release is worth an auditor's attention; the attempt itself rolled back.
        const error = err instanceof AdminError ? err.code : 'internal';
        await sql
          .begin((tx) =>
            auditOrRefuse(
              tx,
              {
                actor: 'coffer recover',
                action: 'recovery.release-now',
                target: req.userId,
                outcome: 'failure',
                origin: req.origin,
                details: { error, challengeId: req.challengeId },
              },
              now,
            ),
          )
          .catch(() => {});
        throw err;
      });
      // Released ahead of time: every key-admin hears of it as they heard of the hold.
      delay.alert?.('recovery', { userId: req.userId, email: released.email, releaseAt: now.toISOString() });
    },
  };
}

async function releaseNow(sql: postgres.Sql, req: AdminRequest<'recovery.release-now'>, now: Date) {
  return sql.begin(async (tx) => {
    const [challenge] = await tx<{ answer_hash: string; expires_at: Date }[]>`UPDATE recovery_challenges
        SET used_at = ${now}
        WHERE id::text = ${req.challengeId} AND used_at IS NULL AND expires_at > ${now}
        RETURNING answer_hash, expires_at`;
    const given = createHash('sha256').update(Buffer.from(req.answer, 'base64url')).digest();
    if (!challenge || !timingSafeEqual(given, Buffer.from(challenge.answer_hash, 'hex'))) {
      throw new AdminError('unauthenticated', 'the recovery challenge was not answered');
    }
    // Taken at once (a refusal below rolls it back): a concurrent cancel or release finds it gone.
    const [hold] = await tx<{ held_at: Date; copies: Held[]; email: string; public_key: string | null }[]>`
      DELETE FROM recovery_holds h USING users u
      WHERE h.user_id = ${req.userId} AND u.id = h.user_id AND u.status = 'unconfirmed'
      RETURNING h.held_at, h.copies, u.email, u.public_key`;
    if (!hold?.public_key) throw new AdminError('not-found', 'no break-glass recovery is waiting for this user');
    // The approval is a run of its own: a challenge begun before the hold existed does not count.
    if (challenge.expires_at.getTime() - CHALLENGE_MS < hold.held_at.getTime()) {
      throw new AdminError('conflict', 'approve with a new `coffer recover --release-now` run, begun after the hold');
    }
    const fingerprint = recipientPublicKey(hold.public_key).fingerprint().replace(/\s+/g, '');
    const [org] = await tx<{ trust_root: string }[]>`SELECT trust_root FROM org`;
    if (!org) throw new AdminError('conflict', 'the vault is not initialised');
    const release = { challengeId: req.challengeId, userId: req.userId, fingerprint };
    if (
      req.fingerprint !== fingerprint ||
      !verifyRecoveryRelease(PublicKey.fromBase64url('ed25519', org.trust_root), release, req.approval)
    ) {
      throw new AdminError('bad-signature', 'the approval is not the org key’s for this held key-admin and challenge');
    }
    const keys = await handOver(tx, req.userId, hold.copies, now);
    await auditOrRefuse(
      tx,
      {
        actor: 'coffer recover',
        action: 'recovery.release-now',
        target: req.userId,
        outcome: 'success',
        origin: req.origin,
        details: { keys, challengeId: req.challengeId, heldAt: hold.held_at.toISOString() },
      },
      now,
    );
    return { email: hold.email };
  });
}
