/**
 * The bootstrap ceremony, as pure key work: make the org signing key, the recovery key and its
 * shares, the first key-admin's keys, and data keys covering the horizon — signed by the org key
 * and wrapped to the key-admin and to the recovery key. Nothing here talks to the bus; `coffer
 * init` sends the result to the vault and prints what people must keep.
 */
import {
  type BundleSuite,
  certifyVaultReplyKey,
  PrivateKey,
  PublicKey,
  signOrgConfig,
  signUserCertificate,
  splitRecoveryKey,
  userCertificateOf,
} from '@coffer/crypto';
import { checkPassword } from '@coffer/policy';
import { type BootstrapRequest, newRecordId } from '@coffer/protocol';
import { type Recipient, wrapOrgKey } from './holder.ts';
import { mintDataKeys, nextWindowStart, windowsCovering } from './mint.ts';
import { enrolUserKey } from './user-key.ts';

export interface CeremonyInput {
  readonly adminEmail: string;
  readonly adminPassword: string;
  readonly shares: number;
  readonly threshold: number;
  /** Length of one data key's cryptoperiod. */
  readonly dataKeyDays: number;
  /** How far ahead data keys are made. */
  readonly horizonDays: number;
  readonly now: Date;
  /**
   * The vault's reply key (base64url, from `status`): certified by the org key here, so the admin
   * plane can check every vault reply against the trust root it pins. Without it, replies stay
   * unsigned until a key-admin certifies the key (`keys.certify-vault`).
   */
  readonly vaultReplyKey?: string | undefined;
  /**
   * The suite the org's data keys, the first key-admin's key and the recovery key are made in,
   * signed into its configuration (`coffer init` offers X-Wing unless told otherwise). Named by
   * every caller: no silent default here.
   */
  readonly suite: BundleSuite;
}

export interface CeremonyOutput {
  readonly request: BootstrapRequest;
  readonly shares: string[];
  readonly trustRoot: string;
  readonly adminFingerprint: string;
  readonly recoveryFingerprint: string;
}

export class CeremonyError extends Error {
  override readonly name = 'CeremonyError';
}

/**
 * A key-admin made offline with the org key in hand (at init, and at break-glass recovery): a key
 * pair in `suite`, the password's verifier and KEK-wrapped private key, and a certificate naming
 * the suite.
 */
export async function makeKeyAdmin(orgKey: PrivateKey<'ed25519'>, email: string, password: string, suite: BundleSuite) {
  const verdict = checkPassword(password, email);
  if (!verdict.ok) throw new CeremonyError(`password refused: ${verdict.detail}`);
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new CeremonyError('the key-admin email is not an address');
  const id = newRecordId();
  const made = await enrolUserKey(password, { id, keyVersion: 1 }, suite);
  return {
    key: made.key,
    record: {
      id,
      email,
      passwordVerifier: made.verifier,
      keyVersion: 1,
      publicKey: made.publicKey,
      wrappedPrivateKey: made.wrappedPrivateKey,
      certificateSignature: signUserCertificate(
        orgKey,
        userCertificateOf({ id, role: 'key-admin', publicKey: made.publicKey }),
      ),
    },
  };
}

export async function runCeremony(input: CeremonyInput): Promise<CeremonyOutput> {
  const orgKey = PrivateKey.generate('ed25519');
  const admin = await makeKeyAdmin(orgKey, input.adminEmail, input.adminPassword, input.suite);
  const orgKeyId = newRecordId();
  // An X-Wing recovery key splits as an X25519 one does: its 32-byte seed is the shared secret.
  const recovery = PrivateKey.generate(input.suite);
  const recoveryKeyId = `recovery-${newRecordId()}`;
  const shares = await splitRecoveryKey(recovery, input.shares, input.threshold);

  const recipients: Recipient[] = [
    { kind: 'user', id: admin.record.id, key: admin.key.publicKey },
    { kind: 'recovery', id: recoveryKeyId, key: recovery.publicKey },
  ];
  const orgKeyCopies = recipients.map((r) => ({
    recipientKind: r.kind,
    recipientId: r.id,
    wrapped: wrapOrgKey(orgKey, orgKeyId, r),
  }));
  const windows = windowsCovering(nextWindowStart(input.now, null), input.dataKeyDays, input.horizonDays);
  const trustRoot = orgKey.publicKey.toBase64url();
  return {
    request: {
      v: 1,
      org: {
        orgKeyId,
        trustRoot,
        recoveryKeyId,
        recoveryPublicKey: recovery.publicKey.toBase64url(),
        recoveryCertificate: signUserCertificate(
          orgKey,
          userCertificateOf({ id: recoveryKeyId, role: 'recovery', publicKey: recovery.publicKey.toBase64url() }),
        ),
        recoveryThreshold: input.threshold,
        recoveryShares: input.shares,
        config: { v: 1, orgKeyId, suite: input.suite },
        configSignature: signOrgConfig(orgKey, { v: 1, orgKeyId, suite: input.suite }),
      },
      admin: admin.record,
      orgKeyCopies,
      dataKeys: mintDataKeys(orgKey, recipients, windows, input.suite),
      ...(input.vaultReplyKey
        ? {
            vaultReplyKey: {
              key: input.vaultReplyKey,
              certificate: certifyVaultReplyKey(orgKey, PublicKey.fromBase64url('ed25519', input.vaultReplyKey)),
            },
          }
        : {}),
    },
    shares,
    trustRoot,
    adminFingerprint: admin.key.publicKey.fingerprint(),
    recoveryFingerprint: recovery.publicKey.fingerprint(),
  };
}
