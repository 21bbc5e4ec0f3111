/**
 * Confirmation: a key-admin (through their session) certifies a new user's key and hands them what
 * their role holds — every data key the key-admin holds (ended windows too, so older records stay
 * readable), none for an auditor, and the org key for a new key-admin.
 */
import {
  isRevoked,
  type RevocationList,
  recipientPublicKey,
  signUserCertificate,
  userCertificateOf,
} from '@coffer/crypto';
import type { Role } from '@coffer/protocol';
import { type DataKeyCopy, type Holder, openOrgKey, rewrapDataKeys, wrapOrgKey } from './holder.ts';
import { RevocationListRefused } from './revocations.ts';

export interface HeldKeys {
  readonly orgKeyId: string;
  /** The holder's wrapped copy of the org key. */
  readonly orgKey: string;
  /** The holder's copies of the data keys. */
  readonly dataKeys: readonly DataKeyCopy[];
}

export interface Grant {
  readonly certificateSignature: string;
  readonly dataKeys: DataKeyCopy[];
  /** The org key wrapped to a new key-admin; absent for other roles. */
  readonly orgKey?: string;
}

export function grantToUser(
  holder: Holder,
  held: HeldKeys,
  user: { id: string; role: Role; publicKey: string },
  /** The signed list, already checked (checkRevocationList): a listed person or key gets nothing. */
  revocations: RevocationList | null,
): Grant {
  if (isRevoked(revocations, user.id, user.publicKey)) {
    throw new RevocationListRefused('this person or key is on the signed revocation list; nothing is wrapped');
  }
  const orgKey = openOrgKey(holder, held.orgKeyId, held.orgKey);
  // X25519 or X-Wing, as the key the person made: the certificate names its suite (v2 for X-Wing).
  const to = { id: user.id, key: recipientPublicKey(user.publicKey) };
  const certificateSignature = signUserCertificate(orgKey, userCertificateOf(user));
  // Auditors read metadata only: they never hold a data key.
  const dataKeys = user.role === 'auditor' ? [] : rewrapDataKeys(holder, held.dataKeys, to);
  return user.role === 'key-admin'
    ? { certificateSignature, dataKeys, orgKey: wrapOrgKey(orgKey, held.orgKeyId, to) }
    : { certificateSignature, dataKeys };
}
