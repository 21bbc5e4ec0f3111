/**
 * Break-glass recovery, offline key work: rebuild the recovery key from k printed shares, open the
 * vault's challenge with it, unwrap the org key (checked against the trust root) and every data key
 * it holds, and make a new key-admin holding them all. The caller sends the result.
 */
import {
  type BundleSuite,
  combineRecoveryShares,
  open,
  type PrivateKey,
  PublicKey,
  recipientPublicKey,
  recoveryChallengeBinding,
  signRecoveryRelease,
} from '@coffer/crypto';
import type { AdminRequest, RecoveryMaterial } from '@coffer/protocol';
import { makeKeyAdmin } from './ceremony.ts';
import { type Holder, openAnyDataKey, openOrgKey, rewrapDataKeys, wrapOrgKey } from './holder.ts';
import { orgSuite, SuiteRefused } from './suite.ts';

export class RecoveryRefused extends Error {
  override readonly name = 'RecoveryRefused';
}

export interface Recovered {
  /** The `recovery.enrol` request, with the opened challenge and the new key-admin. */
  readonly enrol: Omit<AdminRequest<'recovery.enrol'>, 'origin'>;
  readonly userId: string;
  readonly fingerprint: string;
}

export async function recoverKeyAdmin(
  material: RecoveryMaterial,
  shares: readonly string[],
  admin: { email: string; password: string },
  /**
   * The org public key (base64url) as pinned in configuration, never as the vault reports it: a
   * database writer can wrap an org key of their own to the recovery public key (which is public)
   * and put its public half in the org row.
   */
  pinnedTrustRoot: string,
): Promise<Recovered> {
  const m = material;
  const { holder, answer, orgKey } = await openWithShares(m, shares, pinnedTrustRoot);
  try {
    const floor = newKeySuite(m, pinnedTrustRoot);
    const suite = floor === 'xwing' || holdsXWingKey(holder, m.dataKeys) ? 'xwing' : floor;
    const made = await makeKeyAdmin(orgKey, admin.email, admin.password, suite);
    const to = { id: made.record.id, key: made.key.publicKey };
    // The new key-admin's private key leaves only password-wrapped (in made.record).
    made.key.destroy();
    return {
      enrol: {
        v: 1,
        challengeId: m.challengeId,
        answer: answer.toString('base64url'),
        admin: made.record,
        orgKey: wrapOrgKey(orgKey, m.orgKeyId, to),
        dataKeys: rewrapDataKeys(holder, m.dataKeys, to),
      },
      userId: made.record.id,
      fingerprint: made.key.publicKey.fingerprint(),
    };
  } finally {
    answer.fill(0);
    orgKey.destroy();
    holder.key.destroy();
  }
}

/**
 * issue 16 item 4c, the immediate path: a second officer's approval that the vault release one
 * held recovery now. A separate run with its own challenge (`recovery.begin`): the answer proves
 * k shares, and the org key the recovery key unwraps signs which account, holding which key (the
 * fingerprint the recovering officer reads out), is released, bound to this challenge.
 */
export async function approveRecoveryRelease(
  material: RecoveryMaterial,
  shares: readonly string[],
  held: { userId: string; fingerprint: string },
  pinnedTrustRoot: string,
): Promise<Omit<AdminRequest<'recovery.release-now'>, 'origin'>> {
  const m = material;
  const { holder, answer, orgKey } = await openWithShares(m, shares, pinnedTrustRoot);
  try {
    const fingerprint = held.fingerprint.replace(/\s+/g, '');
    return {
      v: 1,
      challengeId: m.challengeId,
      answer: answer.toString('base64url'),
      userId: held.userId,
      fingerprint,
      approval: signRecoveryRelease(orgKey, { challengeId: m.challengeId, userId: held.userId, fingerprint }),
    };
  } finally {
    answer.fill(0);
    orgKey.destroy();
    holder.key.destroy();
  }
}

/**
 * The suite of the recovered key-admin's key: the org's, from its signed configuration checked
 * against the pinned trust root (X25519 for an org made before suites, or an older vault that
 * sends none). Break-glass must still work when the configuration row was tampered with: then the
 * key is X-Wing, never weaker than what the org may have chosen.
 */
function newKeySuite(m: RecoveryMaterial, pinnedTrustRoot: string): BundleSuite {
  try {
    return orgSuite(PublicKey.fromBase64url('ed25519', pinnedTrustRoot), {
      orgKeyId: m.orgKeyId,
      config: m.config,
      newestKey: m.newestKey,
      dataKeyBundles: m.dataKeyBundles,
    });
  } catch (err) {
    if (err instanceof SuiteRefused) return 'xwing';
    throw err;
  }
}

/**
 * Whether any data key the recovery key holds is X-Wing: then the recovered key-admin's key is
 * X-Wing too, whatever the (database-supplied) suite material says — an X-Wing data key is never
 * wrapped to an X25519 key (as grantToUser refuses). Each key is opened only to read its kind.
 */
function holdsXWingKey(holder: Holder, copies: RecoveryMaterial['dataKeys']): boolean {
  for (const copy of copies) {
    const key = openAnyDataKey(holder, copy);
    const kind = key.kind;
    key.destroy();
    if (kind === 'xwing') return true;
  }
  return false;
}

/**
 * Rebuild the recovery key, open the challenge and the org key, and check it is the pinned one.
 * On any failure every key opened so far is destroyed and the answer wiped.
 */
async function openWithShares(m: RecoveryMaterial, shares: readonly string[], pinnedTrustRoot: string) {
  // X25519, or X-Wing for an org made with X-Wing: the shares rebuild whichever the vault stores.
  const recoveryPublic = recipientPublicKey(m.recovery.publicKey);
  // Names a mistyped share by its position; refuses shares of another set or too few.
  const holder: Holder = {
    id: m.recovery.id,
    key: await combineRecoveryShares(shares, recoveryPublic, m.recovery.threshold),
  };
  let answer: Buffer | undefined;
  let orgKey: PrivateKey<'ed25519'> | undefined;
  try {
    answer = open(holder.key, Buffer.from(m.challenge, 'base64'), recoveryChallengeBinding(m.challengeId));
    orgKey = openOrgKey(holder, m.orgKeyId, m.orgKey);
    if (m.trustRoot !== pinnedTrustRoot) {
      throw new RecoveryRefused(
        "the database's trust root is not the pinned one: the org row was changed; recover nothing",
      );
    }
    if (orgKey.publicKey.toBase64url() !== pinnedTrustRoot) {
      throw new RecoveryRefused(
        'the recovered org key is not the pinned trust root: its copy in the database was replaced',
      );
    }
    return { holder, answer, orgKey };
  } catch (err) {
    answer?.fill(0);
    orgKey?.destroy();
    holder.key.destroy();
    throw err;
  }
}
