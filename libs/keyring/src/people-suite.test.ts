/**
 * Issue 15, item 1 for people: in an X-Wing org the first key-admin, the recovery key, a newly
 * confirmed person and a recovered key-admin all hold X-Wing keys whose certificates name the
 * suite, and every data key is wrapped to them with X-Wing HPKE; an X25519 person of the same org
 * keeps a v1 certificate and X25519 wraps. The recovery shares rebuild an X-Wing recovery key.
 */
import {
  KEM_XWING,
  PrivateKey,
  PublicKey,
  parseSealedBlob,
  recipientPublicKey,
  recoveryChallengeBinding,
  seal,
  unlockWithPassword,
  unwrapWithSymmetricKey,
  userCertificateOf,
  userKeyAad,
  verifyUserCertificate,
} from '@coffer/crypto';
import type { RecoveryMaterial } from '@coffer/protocol';
import { describe, expect, it } from 'vitest';
import { heldByFirstAdmin, heldByRecovery } from '../testing/held-copies.ts';
import { type CeremonyOutput, runCeremony } from './ceremony.ts';
import { grantToUser } from './confirm.ts';
import { openDataKey } from './holder.ts';
import { certifiedRecipients } from './recipients.ts';
import { recoverKeyAdmin } from './recover.ts';
import { SuiteRefused } from './suite.ts';

const PASSWORD = 'saffron-quarry-meridian-6620-slowly';
const both = ['x25519', 'xwing'] as const;
const kemOf = (wrapped: string) => parseSealedBlob(Buffer.from(wrapped, 'base64')).suite.kem;

async function xwingOrg(): Promise<CeremonyOutput> {
  return runCeremony({
    adminEmail: 'ka@example.com',
    adminPassword: PASSWORD,
    shares: 3,
    threshold: 2,
    dataKeyDays: 90,
    horizonDays: 90,
    suite: 'xwing',
    now: new Date('2026-12-02T08:00:00.000Z'),
  });
}

async function adminKey(made: CeremonyOutput) {
  const a = made.request.admin;
  const { kek } = await unlockWithPassword(PASSWORD, a.passwordVerifier);
  return unwrapWithSymmetricKey(both, kek, Buffer.from(a.wrappedPrivateKey, 'base64'), userKeyAad(a.id, 1));
}

/** What recovery.begin sends for a freshly made org (challenge answer: 32 bytes of 7). */
function recoveryMaterial(made: CeremonyOutput): RecoveryMaterial {
  const { request } = made;
  return {
    challengeId: 'c-1',
    challenge: seal(
      recipientPublicKey(request.org.recoveryPublicKey),
      Buffer.alloc(32, 7),
      recoveryChallengeBinding('c-1'),
    ).toString('base64'),
    trustRoot: made.trustRoot,
    ...heldByRecovery(request, 2),
    config: { config: request.org.config as never, signature: request.org.configSignature as string },
    newestKey: null,
  };
}

describe('an X-Wing org: people and the recovery key hold X-Wing keys', () => {
  it('the ceremony makes an X-Wing key-admin and recovery key, certified as xwing, every wrap X-Wing', async () => {
    const made = await xwingOrg();
    const root = PublicKey.fromBase64url('ed25519', made.trustRoot);
    const { admin, org } = made.request;
    const adminCert = userCertificateOf({ id: admin.id, role: 'key-admin', publicKey: admin.publicKey });
    expect(adminCert.suite).toBe('xwing');
    expect(verifyUserCertificate(root, adminCert, admin.certificateSignature, both).key.kind).toBe('xwing');
    const recoveryCert = userCertificateOf({
      id: org.recoveryKeyId,
      role: 'recovery',
      publicKey: org.recoveryPublicKey,
    });
    expect(verifyUserCertificate(root, recoveryCert, org.recoveryCertificate, both).key.kind).toBe('xwing');
    for (const copy of [...made.request.orgKeyCopies, ...made.request.dataKeys.flatMap((k) => k.copies)]) {
      expect(kemOf(copy.wrapped)).toBe(KEM_XWING);
    }
    expect((await adminKey(made)).kind).toBe('xwing');
  });

  it('confirming an X-Wing person certifies xwing and wraps X-Wing; an X25519 auditor keeps v1', async () => {
    const made = await xwingOrg();
    const root = PublicKey.fromBase64url('ed25519', made.trustRoot);
    const holder = { id: made.request.admin.id, key: await adminKey(made) };
    const held = heldByFirstAdmin(made.request);
    // An X25519 key in an org holding X-Wing data keys: an auditor only (no data key) — see below.
    for (const kind of ['xwing', 'x25519'] as const) {
      const key = PrivateKey.generate(kind);
      const role = kind === 'xwing' ? ('viewer' as const) : ('auditor' as const);
      const user = { id: crypto.randomUUID(), role, publicKey: key.publicKey.toBase64url() };
      const grant = grantToUser(holder, held, user, null);
      const cert = verifyUserCertificate(root, userCertificateOf(user), grant.certificateSignature, both);
      expect(cert.key.kind).toBe(kind);
      expect('suite' in cert).toBe(kind === 'xwing');
      for (const copy of grant.dataKeys) {
        expect(kemOf(copy.wrapped) === KEM_XWING).toBe(kind === 'xwing');
        expect(openDataKey({ id: user.id, key }, copy, 'xwing').kind).toBe('xwing');
      }
      // Both are recipients of new data keys, each in its own suite.
      const { recipients } = certifiedRecipients(
        root,
        {
          recipients: [{ ...user, certificateSignature: grant.certificateSignature }],
          recovery: {
            id: made.request.org.recoveryKeyId,
            publicKey: made.request.org.recoveryPublicKey,
            certificate: made.request.org.recoveryCertificate,
          },
        },
        null,
      );
      expect(recipients.map((r) => r.key.kind)).toEqual([kind, 'xwing']);
    }
  });

  it('never gives X-Wing data keys (or the org key) to a newly certified X25519 key: SuiteRefused, nothing signed', async () => {
    // A database writer restores an older X25519 configuration, so an invitee makes an X25519 key:
    // confirmation in an org that holds X-Wing data keys refuses it for every role that gets keys.
    const made = await xwingOrg();
    const holder = { id: made.request.admin.id, key: await adminKey(made) };
    const held = heldByFirstAdmin(made.request);
    for (const role of ['viewer', 'key-admin'] as const) {
      const key = PrivateKey.generate('x25519');
      const user = { id: crypto.randomUUID(), role, publicKey: key.publicKey.toBase64url() };
      expect(() => grantToUser(holder, held, user, null)).toThrow(SuiteRefused);
    }
  });

  it('k shares rebuild the X-Wing recovery key; the recovered key-admin is X-Wing and holds every key', async () => {
    const made = await xwingOrg();
    const { request } = made;
    const recovered = await recoverKeyAdmin(
      recoveryMaterial(made),
      [made.shares[2] as string, made.shares[0] as string],
      { email: 'officer@example.com', password: PASSWORD },
      made.trustRoot,
    );
    expect(Buffer.from(recovered.enrol.answer, 'base64url')).toEqual(Buffer.alloc(32, 7));
    const a = recovered.enrol.admin;
    const root = PublicKey.fromBase64url('ed25519', made.trustRoot);
    const cert = userCertificateOf({ id: a.id, role: 'key-admin', publicKey: a.publicKey });
    expect(verifyUserCertificate(root, cert, a.certificateSignature, both).key.kind).toBe('xwing');
    const { kek } = await unlockWithPassword(PASSWORD, a.passwordVerifier);
    const key = unwrapWithSymmetricKey('xwing', kek, Buffer.from(a.wrappedPrivateKey, 'base64'), userKeyAad(a.id, 1));
    expect(kemOf(recovered.enrol.orgKey)).toBe(KEM_XWING);
    for (const copy of recovered.enrol.dataKeys) {
      expect(kemOf(copy.wrapped)).toBe(KEM_XWING);
      const bundle = request.dataKeys.find((k) => k.bundle.id === copy.keyId)?.bundle;
      expect(openDataKey({ id: a.id, key }, copy, 'xwing').publicKey.toBase64url()).toBe(bundle?.publicKey);
    }
  });

  it('never wraps X-Wing data keys to an X25519 recovered key: no suite material (an older vault) still gives X-Wing', async () => {
    const made = await xwingOrg();
    const { config: _, ...older } = recoveryMaterial(made);
    const recovered = await recoverKeyAdmin(
      { ...older, newestKey: null },
      [made.shares[1] as string, made.shares[0] as string],
      { email: 'officer@example.com', password: PASSWORD },
      made.trustRoot,
    );
    expect(recipientPublicKey(recovered.enrol.admin.publicKey).kind).toBe('xwing');
    for (const copy of recovered.enrol.dataKeys) expect(kemOf(copy.wrapped)).toBe(KEM_XWING);
  });
});
