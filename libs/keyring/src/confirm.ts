/**
 * Confirmation: a key-admin (through their session) certifies a new user's key and hands them what
 * their role holds — every data key the key-admin holds (ended windows too, so older records stay
 * readable), none for an auditor, and the org key for a new key-admin.
 */
import {
  isRevoked,
  type PrivateKey,
  type RecipientKind,
  type RevocationList,
  recipientPublicKey,
  signUserCertificate,
  userCertificateOf,
} from '@coffer/crypto';
import type { Role } from '@coffer/protocol';
import { type DataKeyCopy, type Holder, openAnyDataKey, openOrgKey, wrapDataKey, wrapOrgKey } from './holder.ts';
import { RevocationListRefused } from './revocations.ts';
import { SuiteRefused } from './suite.ts';

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
  // Each data key unwrapped once (its kind is checked on the key that is then re-wrapped), and
  // every key opened here destroyed before returning or throwing. Auditors open none.
  const opened: { keyId: string; key: PrivateKey<RecipientKind> }[] = [];
  try {
    if (user.role !== 'auditor') {
      for (const copy of held.dataKeys) opened.push({ keyId: copy.keyId, key: openAnyDataKey(holder, copy) });
    }
    // X25519 or X-Wing, as the key the person made: the certificate names its suite (v2 for X-Wing).
    const to = { id: user.id, key: recipientPublicKey(user.publicKey) };
    // Never a downgrade at confirmation: a post-quantum data key (or, for a key-admin, an org that
    // has one) is not handed to a newly certified classical key — else a database writer who restores
    // an older X25519 configuration gets new people of an X-Wing org made X25519 (issue 15 item 1).
    if (to.key.kind === 'x25519' && opened.some(({ key }) => key.kind === 'xwing')) {
      throw new SuiteRefused(
        'this org holds X-Wing data keys: a new key must be X-Wing; ask the person to accept again',
      );
    }
    const certificateSignature = signUserCertificate(orgKey, userCertificateOf(user));
    const dataKeys = opened.map(({ keyId, key }) => ({ keyId, wrapped: wrapDataKey(key, keyId, to) }));
    return user.role === 'key-admin'
      ? { certificateSignature, dataKeys, orgKey: wrapOrgKey(orgKey, held.orgKeyId, to) }
      : { certificateSignature, dataKeys };
  } finally {
    orgKey.destroy();
    for (const { key } of opened) key.destroy();
  }
}
