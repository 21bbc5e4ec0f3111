/**
 * Who may receive a new data key: every active viewer and key-admin whose certificate verifies
 * under the pinned trust root, and the org's recovery key, which must carry one too. A row planted
 * in the database without a certificate the org key made gets nothing; an uncertified recovery key
 * stops the whole run, since every data key must be recoverable. Nobody on the signed revocation
 * list (checked by the caller against its remembered counter) gets anything, whatever their row
 * and certificate say: a revoked person's row restored from a backup carries a valid certificate.
 */
import {
  isRevoked,
  type PublicKey,
  type RevocationList,
  userCertificateOf,
  verifyUserCertificate,
} from '@coffer/crypto';
import type { Recipient } from './holder.ts';

export class UncertifiedRecoveryKey extends Error {
  override readonly name = 'UncertifiedRecoveryKey';
  readonly code = 'recovery-key-uncertified';
}

export interface RecipientCandidates {
  readonly recipients: readonly {
    id: string;
    role: 'viewer' | 'key-admin' | 'auditor';
    publicKey: string;
    certificateSignature: string | null;
  }[];
  readonly recovery: { id: string; publicKey: string; certificate: string | null };
}

export interface CertifiedRecipients {
  /** The certified users, then the recovery key (always last). */
  readonly recipients: Recipient[];
  /** Ids of the users whose certificate did not verify: no key is wrapped to them. */
  readonly skipped: string[];
  /** Ids of the users the revocation list names: no key is wrapped to them. */
  readonly revoked: string[];
}

export function certifiedRecipients(
  trustRoot: PublicKey<'ed25519'>,
  candidates: RecipientCandidates,
  revocations: RevocationList | null,
): CertifiedRecipients {
  const recipients: Recipient[] = [];
  const skipped: string[] = [];
  const revoked: string[] = [];
  for (const r of candidates.recipients) {
    if (isRevoked(revocations, r.id, r.publicKey)) {
      revoked.push(r.id);
      continue;
    }
    try {
      const cert = verifyUserCertificate(trustRoot, userCertificateOf(r), r.certificateSignature ?? '', [
        'x25519',
        'xwing',
      ]);
      recipients.push({ kind: 'user', id: r.id, key: cert.key });
    } catch {
      skipped.push(r.id);
    }
  }
  const { recovery } = candidates;
  try {
    const cert = verifyUserCertificate(
      trustRoot,
      userCertificateOf({ id: recovery.id, role: 'recovery', publicKey: recovery.publicKey }),
      recovery.certificate ?? '',
      ['x25519', 'xwing'],
    );
    recipients.push({ kind: 'recovery', id: recovery.id, key: cert.key });
  } catch {
    throw new UncertifiedRecoveryKey('the recovery key is not certified by the org key; no data keys may be made');
  }
  return { recipients, skipped, revoked };
}
