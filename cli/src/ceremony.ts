/**
 * The bootstrap ceremony, as pure key work: make the org signing key, the recovery key and its
 * shares, the first key-admin's keys, and data keys covering the horizon — signed by the org key
 * and wrapped to the key-admin and to the recovery key. Nothing here talks to the bus; `init`
 * sends the result to the vault and prints what people must keep.
 */
import {
  dataKeyWrapBinding,
  enrollPassword,
  orgKeyWrapBinding,
  PrivateKey,
  signDataKeyBundle,
  signUserCertificate,
  splitRecoveryKey,
  userKeyAad,
  wrapPrivateKey,
  wrapWithSymmetricKey,
} from '@coffer/crypto';
import { checkPassword } from '@coffer/policy';
import { type BootstrapRequest, newRecordId } from '@coffer/protocol';

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

const DAY_MS = 24 * 60 * 60 * 1000;
const b64 = (b: Buffer) => b.toString('base64');

/** Data key windows back to back from `now`, enough to cover `horizonDays`. */
export function dataKeyWindows(
  now: Date,
  dataKeyDays: number,
  horizonDays: number,
): { notBefore: Date; notAfter: Date }[] {
  const start = now.getTime() - (now.getTime() % 1000);
  const count = Math.ceil(horizonDays / dataKeyDays);
  return Array.from({ length: count }, (_, i) => ({
    notBefore: new Date(start + i * dataKeyDays * DAY_MS),
    notAfter: new Date(start + (i + 1) * dataKeyDays * DAY_MS),
  }));
}

/**
 * A key-admin made offline with the org key in hand (at init, and at break-glass recovery): a key
 * pair, the password's verifier and KEK-wrapped private key, and a certificate.
 */
export async function makeKeyAdmin(orgKey: PrivateKey<'ed25519'>, email: string, password: string) {
  const verdict = checkPassword(password, email);
  if (!verdict.ok) throw new CeremonyError(`password refused: ${verdict.detail}`);
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) throw new CeremonyError('the key-admin email is not an address');
  const id = newRecordId();
  const key = PrivateKey.generate('x25519');
  const { verifier, kek } = await enrollPassword(password);
  const wrapped = wrapWithSymmetricKey(key, kek, userKeyAad(id, 1));
  kek.destroy();
  const certificateSignature = signUserCertificate(orgKey, {
    id,
    role: 'key-admin',
    publicKey: key.publicKey.toBase64url(),
  });
  return {
    key,
    record: {
      id,
      email,
      passwordVerifier: verifier,
      keyVersion: 1,
      publicKey: key.publicKey.toBase64url(),
      wrappedPrivateKey: wrapped.toString('base64'),
      certificateSignature,
    },
  };
}

export async function runCeremony(input: CeremonyInput): Promise<CeremonyOutput> {
  const orgKey = PrivateKey.generate('ed25519');
  const admin = await makeKeyAdmin(orgKey, input.adminEmail, input.adminPassword);

  const orgKeyId = newRecordId();
  const recovery = PrivateKey.generate('x25519');
  const recoveryKeyId = `recovery-${newRecordId()}`;
  const shares = await splitRecoveryKey(recovery, input.shares, input.threshold);

  const adminId = admin.record.id;
  const adminKey = admin.key;

  const recipients = [
    { recipientKind: 'user' as const, recipientId: adminId, key: adminKey.publicKey },
    { recipientKind: 'recovery' as const, recipientId: recoveryKeyId, key: recovery.publicKey },
  ];
  const orgKeyCopies = recipients.map((r) => ({
    recipientKind: r.recipientKind,
    recipientId: r.recipientId,
    wrapped: b64(wrapPrivateKey(orgKey, r.key, orgKeyWrapBinding(orgKeyId, r.recipientId))),
  }));

  const dataKeys = dataKeyWindows(input.now, input.dataKeyDays, input.horizonDays).map((window) => {
    const dataKey = PrivateKey.generate('x25519');
    const bundle = {
      id: newRecordId(),
      publicKey: dataKey.publicKey.toBase64url(),
      notBefore: window.notBefore.toISOString(),
      notAfter: window.notAfter.toISOString(),
    };
    return {
      bundle,
      signature: signDataKeyBundle(orgKey, bundle),
      copies: recipients.map((r) => ({
        recipientKind: r.recipientKind,
        recipientId: r.recipientId,
        wrapped: b64(wrapPrivateKey(dataKey, r.key, dataKeyWrapBinding(bundle.id, r.recipientId))),
      })),
    };
  });

  const trustRoot = orgKey.publicKey.toBase64url();
  return {
    request: {
      v: 1,
      org: {
        orgKeyId,
        trustRoot,
        recoveryKeyId,
        recoveryPublicKey: recovery.publicKey.toBase64url(),
        recoveryCertificate: signUserCertificate(orgKey, {
          id: recoveryKeyId,
          role: 'recovery',
          publicKey: recovery.publicKey.toBase64url(),
        }),
        recoveryThreshold: input.threshold,
        recoveryShares: input.shares,
      },
      admin: admin.record,
      orgKeyCopies,
      dataKeys,
    },
    shares,
    trustRoot,
    adminFingerprint: adminKey.publicKey.fingerprint(),
    recoveryFingerprint: recovery.publicKey.fingerprint(),
  };
}
