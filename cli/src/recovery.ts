/**
 * Break-glass recovery, offline key work: rebuild the recovery key from k printed shares, prove
 * it to the vault by opening its challenge, unwrap the org key and the live data keys with it, and
 * make a new key-admin holding them all. Nothing here is stored; the vault gets only what it
 * would get at init.
 */
import { type Bus, callVault } from '@coffer/bus';
import {
  combineRecoveryShares,
  dataKeyWrapBinding,
  open,
  orgKeyWrapBinding,
  PublicKey,
  recoveryChallengeBinding,
  unwrapPrivateKey,
  wrapPrivateKey,
} from '@coffer/crypto';
import type { RecoveryMaterial } from '@coffer/protocol';
import { makeKeyAdmin } from './ceremony.ts';

export interface RecoveryInput {
  readonly bus: Bus;
  readonly shares: readonly string[];
  readonly email: string;
  readonly password: string;
  /**
   * The org public key (base64url) as pinned in configuration, never as the vault reports it: a
   * database writer can wrap an org key of their own to the recovery public key (which is public)
   * and put its public half in the org row.
   */
  readonly trustRoot: string;
}

export async function runRecovery(input: RecoveryInput): Promise<{ userId: string; fingerprint: string }> {
  const m = await callVault<RecoveryMaterial>(input.bus, 'recovery.begin', { v: 1, origin: 'coffer recover' });
  const recoveryPublic = PublicKey.fromBase64url('x25519', m.recovery.publicKey);
  // Names a mistyped share by its position; refuses shares of another set or too few.
  const recovery = await combineRecoveryShares(input.shares, recoveryPublic, m.recovery.threshold);
  const answer = open(recovery, Buffer.from(m.challenge, 'base64'), recoveryChallengeBinding(m.challengeId));
  const orgKey = unwrapPrivateKey(
    'ed25519',
    recovery,
    Buffer.from(m.orgKey, 'base64'),
    orgKeyWrapBinding(m.orgKeyId, m.recovery.id),
  );
  if (m.trustRoot !== input.trustRoot) {
    throw new Error("the database's trust root is not the pinned one: the org row was changed; recover nothing");
  }
  if (orgKey.publicKey.toBase64url() !== input.trustRoot) {
    throw new Error('the recovered org key is not the pinned trust root: its copy in the database was replaced');
  }
  const admin = await makeKeyAdmin(orgKey, input.email, input.password);
  const dataKeys = m.dataKeys.map(({ keyId, wrapped }) => {
    const dataKey = unwrapPrivateKey(
      'x25519',
      recovery,
      Buffer.from(wrapped, 'base64'),
      dataKeyWrapBinding(keyId, m.recovery.id),
    );
    return {
      keyId,
      wrapped: wrapPrivateKey(dataKey, admin.key.publicKey, dataKeyWrapBinding(keyId, admin.record.id)).toString(
        'base64',
      ),
    };
  });
  const orgCopy = wrapPrivateKey(orgKey, admin.key.publicKey, orgKeyWrapBinding(m.orgKeyId, admin.record.id));
  await callVault(input.bus, 'recovery.enrol', {
    v: 1,
    challengeId: m.challengeId,
    answer: answer.toString('base64url'),
    admin: admin.record,
    orgKey: orgCopy.toString('base64'),
    dataKeys,
    origin: 'coffer recover',
  });
  answer.fill(0);
  return { userId: admin.record.id, fingerprint: admin.key.publicKey.fingerprint() };
}
