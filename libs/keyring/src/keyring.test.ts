import {
  CryptoError,
  PrivateKey,
  PublicKey,
  recoveryChallengeBinding,
  seal,
  signUserCertificate,
  unlockWithPassword,
  unwrapWithSymmetricKey,
  userKeyAad,
  verifyDataKeyBundle,
  verifyUserCertificate,
} from '@coffer/crypto';
import { describe, expect, it } from 'vitest';
import { heldByRecovery } from '../testing/held-copies.ts';
import { runCeremony } from './ceremony.ts';
import { grantToUser } from './confirm.ts';
import { type Holder, openDataKey, wrapOrgKey } from './holder.ts';
import { dataKeyWindows, mintDataKeys, nextWindowStart } from './mint.ts';
import { pregenerateDataKeys } from './pregenerate.ts';
import { certifiedRecipients, UncertifiedRecoveryKey } from './recipients.ts';
import { recoverKeyAdmin } from './recover.ts';
import { checkRevocationList, nextRevocationList, RevocationListRefused } from './revocations.ts';

const PASSWORD = 'saffron-quarry-meridian-6620-slowly';
const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date('2026-03-01T10:00:00.123Z');

function person(orgKey: PrivateKey<'ed25519'>, role: 'viewer' | 'key-admin' | 'auditor', certified = true) {
  const key = PrivateKey.generate('x25519');
  const id = crypto.randomUUID();
  const publicKey = key.publicKey.toBase64url();
  return {
    holder: { id, key } as Holder,
    candidate: {
      id,
      role,
      publicKey,
      certificateSignature: certified ? signUserCertificate(orgKey, { id, role, publicKey }) : null,
    },
  };
}

function org() {
  const orgKey = PrivateKey.generate('ed25519');
  const recovery = PrivateKey.generate('x25519');
  const recoveryId = 'recovery-1';
  const publicKey = recovery.publicKey.toBase64url();
  return {
    orgKey,
    trustRoot: orgKey.publicKey,
    recoveryHolder: { id: recoveryId, key: recovery } as Holder,
    recovery: {
      id: recoveryId,
      publicKey,
      certificate: signUserCertificate(orgKey, { id: recoveryId, role: 'recovery', publicKey }),
    },
  };
}

describe('keyring: recipients and minting', () => {
  it('wraps each new data key to every certified recipient and the recovery key, and to no one else', () => {
    const o = org();
    const viewer = person(o.orgKey, 'viewer');
    const planted = person(o.orgKey, 'viewer', false);
    const { recipients, skipped } = certifiedRecipients(
      o.trustRoot,
      {
        recipients: [viewer.candidate, planted.candidate],
        recovery: o.recovery,
      },
      null,
    );
    expect(skipped).toEqual([planted.candidate.id]);
    expect(recipients.map((r) => r.id)).toEqual([viewer.candidate.id, o.recovery.id]);

    const [minted] = mintDataKeys(o.orgKey, recipients, dataKeyWindows(NOW, 90, 1), 'x25519');
    if (!minted) throw new Error('nothing minted');
    verifyDataKeyBundle(o.trustRoot, minted.bundle, minted.signature);
    for (const holder of [viewer.holder, o.recoveryHolder]) {
      const copy = minted.copies.find((c) => c.recipientId === holder.id);
      if (!copy) throw new Error(`no copy for ${holder.id}`);
      const dataKey = openDataKey(holder, { keyId: minted.bundle.id, wrapped: copy.wrapped });
      expect(dataKey.publicKey.toBase64url()).toBe(minted.bundle.publicKey);
      // A copy opens only for the holder it was wrapped to.
      expect(() => openDataKey(planted.holder, { keyId: minted.bundle.id, wrapped: copy.wrapped })).toThrow(
        CryptoError,
      );
    }
  });

  it('makes nothing when the recovery key is not certified', () => {
    const o = org();
    const viewer = person(o.orgKey, 'viewer');
    expect(() =>
      certifiedRecipients(
        o.trustRoot,
        {
          recipients: [viewer.candidate],
          recovery: { ...o.recovery, certificate: null },
        },
        null,
      ),
    ).toThrow(UncertifiedRecoveryKey);
  });

  it('starts the next windows at the later of now and the last window’s end, back to back', () => {
    expect(nextWindowStart(NOW, null).toISOString()).toBe('2026-03-01T10:00:00.000Z');
    expect(nextWindowStart(NOW, '2026-05-01T00:00:00.000Z').toISOString()).toBe('2026-05-01T00:00:00.000Z');
    const windows = dataKeyWindows(new Date('2026-05-01T00:00:00.000Z'), 90, 2);
    expect(windows[1]?.notBefore).toEqual(windows[0]?.notAfter);
    expect((windows[1]?.notAfter.getTime() ?? 0) - (windows[0]?.notBefore.getTime() ?? 0)).toBe(180 * DAY);
  });

  it('pre-generates through a key-admin’s copy of the org key', () => {
    const o = org();
    const admin = person(o.orgKey, 'key-admin');
    const made = pregenerateDataKeys(
      admin.holder,
      {
        orgKeyId: 'org-1',
        orgKey: wrapOrgKey(o.orgKey, 'org-1', { id: admin.holder.id, key: admin.holder.key.publicKey }),
        recipients: [admin.candidate],
        recovery: o.recovery,
        lastNotAfter: '2026-04-01T00:00:00.000Z',
        config: null,
        newestKey: null,
      },
      o.trustRoot,
      null,
      { count: 2, days: 30, now: NOW },
    );
    expect(made.skipped).toEqual([]);
    expect(made.dataKeys.map((k) => k.bundle.notBefore)).toEqual([
      '2026-04-01T00:00:00.000Z',
      '2026-05-01T00:00:00.000Z',
    ]);
    for (const k of made.dataKeys) verifyDataKeyBundle(o.trustRoot, k.bundle, k.signature);
  });
});

describe('keyring: the signed revocation list (issue 15, item 2)', () => {
  it('wraps nothing to a listed person, even with a valid certificate, and rotates from now', () => {
    const o = org();
    const admin = person(o.orgKey, 'key-admin');
    const viewer = person(o.orgKey, 'viewer');
    const held = {
      orgKeyId: 'org-1',
      orgKey: wrapOrgKey(o.orgKey, 'org-1', { id: admin.holder.id, key: admin.holder.key.publicKey }),
    };
    const signed = nextRevocationList(
      admin.holder,
      held,
      null,
      [{ userId: viewer.candidate.id, fingerprint: null }],
      NOW,
    );
    const list = checkRevocationList(o.trustRoot, signed, 0);
    expect(list?.counter).toBe(1);
    const made = pregenerateDataKeys(
      admin.holder,
      {
        ...held,
        recipients: [admin.candidate, viewer.candidate],
        recovery: o.recovery,
        lastNotAfter: '2026-04-01T00:00:00.000Z',
        config: null,
        newestKey: null,
      },
      o.trustRoot,
      list,
      { count: 1, days: 30, now: NOW, startNow: true },
    );
    expect(made.revoked).toEqual([viewer.candidate.id]);
    expect(made.dataKeys[0]?.bundle.notBefore).toBe('2026-03-01T10:00:00.000Z');
    expect(made.dataKeys[0]?.copies.map((c) => c.recipientId)).toEqual([admin.candidate.id, o.recovery.id]);
  });

  it('refuses a list older than the remembered counter, a missing one, and an unsigned one', () => {
    const o = org();
    const admin = person(o.orgKey, 'key-admin');
    const held = {
      orgKeyId: 'org-1',
      orgKey: wrapOrgKey(o.orgKey, 'org-1', { id: admin.holder.id, key: admin.holder.key.publicKey }),
    };
    const first = nextRevocationList(admin.holder, held, null, [{ userId: 'u-1', fingerprint: null }], NOW);
    expect(() => checkRevocationList(o.trustRoot, first, 2)).toThrow(RevocationListRefused);
    expect(() => checkRevocationList(o.trustRoot, null, 1)).toThrow(RevocationListRefused);
    expect(() => checkRevocationList(o.trustRoot, { ...first, signature: 'A'.repeat(86) }, 0)).toThrow(
      RevocationListRefused,
    );
    expect(checkRevocationList(o.trustRoot, null, 0)).toBeNull();
  });

  it('refuses a fork: a list with the kept counter that drops an entry of the kept list', () => {
    const o = org();
    const admin = person(o.orgKey, 'key-admin');
    const held = {
      orgKeyId: 'org-1',
      orgKey: wrapOrgKey(o.orgKey, 'org-1', { id: admin.holder.id, key: admin.holder.key.publicKey }),
    };
    const base = nextRevocationList(admin.holder, held, null, [{ userId: 'u-0', fingerprint: null }], NOW);
    const baseList = checkRevocationList(o.trustRoot, base, 0);
    // Revoking Y was signed and held back on the bus; revoking X was then signed with the same counter.
    const withY = nextRevocationList(admin.holder, held, baseList, [{ userId: 'u-y', fingerprint: null }], NOW);
    const withX = nextRevocationList(admin.holder, held, baseList, [{ userId: 'u-x', fingerprint: null }], NOW);
    expect(withY.list.counter).toBe(withX.list.counter);
    // This replica kept the list naming X: the one naming Y instead is a fork, refused.
    expect(() => checkRevocationList(o.trustRoot, withY, withX.list.counter, withX)).toThrow(/forked/);
    expect(checkRevocationList(o.trustRoot, withX, withX.list.counter, withX)?.counter).toBe(withX.list.counter);
    // A later list that keeps X's entry passes; the kept copy of an older counter is no bar.
    const later = nextRevocationList(admin.holder, held, withX.list, [{ userId: 'u-z', fingerprint: null }], NOW);
    expect(checkRevocationList(o.trustRoot, later, withX.list.counter, withX)?.counter).toBe(later.list.counter);
  });
});

describe('keyring: handing held keys to a confirmed user', () => {
  const o = org();
  const admin = person(o.orgKey, 'key-admin');
  const to = { id: admin.holder.id, key: admin.holder.key.publicKey };
  const [minted] = mintDataKeys(
    o.orgKey,
    [{ kind: 'user', id: admin.holder.id, key: admin.holder.key.publicKey }],
    dataKeyWindows(NOW, 90, 1),
    'x25519',
  );
  const held = {
    orgKeyId: 'org-1',
    orgKey: wrapOrgKey(o.orgKey, 'org-1', to),
    dataKeys: [{ keyId: minted?.bundle.id as string, wrapped: minted?.copies[0]?.wrapped as string }],
  };

  it.each(['viewer', 'key-admin', 'auditor'] as const)('gives a %s a certificate and what the role holds', (role) => {
    const user = person(o.orgKey, role, false);
    const grant = grantToUser(admin.holder, held, user.candidate, null);
    const { id, publicKey } = user.candidate;
    verifyUserCertificate(o.trustRoot, { id, role, publicKey }, grant.certificateSignature);
    expect(grant.dataKeys).toHaveLength(role === 'auditor' ? 0 : 1);
    expect(grant.orgKey !== undefined).toBe(role === 'key-admin');
    for (const copy of grant.dataKeys) {
      expect(openDataKey(user.holder, copy).publicKey.toBase64url()).toBe(minted?.bundle.publicKey);
    }
  });
});

describe('keyring: ceremony and break-glass recovery', () => {
  it('makes a verifiable org, and recovery from k shares hands every key to a new key-admin', async () => {
    const made = await runCeremony({
      adminEmail: 'ka@example.com',
      adminPassword: PASSWORD,
      shares: 3,
      threshold: 2,
      dataKeyDays: 90,
      horizonDays: 180,
      suite: 'x25519',
      now: NOW,
    });
    const trustRoot = PublicKey.fromBase64url('ed25519', made.trustRoot);
    const { request } = made;
    expect(request.dataKeys).toHaveLength(2);
    for (const k of request.dataKeys) verifyDataKeyBundle(trustRoot, k.bundle, k.signature);

    const recovered = await recoverKeyAdmin(
      {
        challengeId: 'c-1',
        // Sealed to the recovery key: only the key rebuilt from the shares opens it.
        challenge: seal(
          PublicKey.fromBase64url('x25519', request.org.recoveryPublicKey),
          Buffer.alloc(32, 9),
          recoveryChallengeBinding('c-1'),
        ).toString('base64'),
        trustRoot: made.trustRoot,
        ...heldByRecovery(request, 2),
      },
      made.shares.slice(1),
      { email: 'officer@example.com', password: PASSWORD },
      made.trustRoot,
    );
    expect(Buffer.from(recovered.enrol.answer, 'base64url')).toEqual(Buffer.alloc(32, 9));
    const a = recovered.enrol.admin;
    verifyUserCertificate(trustRoot, { id: a.id, role: 'key-admin', publicKey: a.publicKey }, a.certificateSignature);
    // The new key-admin's password opens their key, and their key opens every data key.
    const { kek } = await unlockWithPassword(PASSWORD, a.passwordVerifier);
    const key = unwrapWithSymmetricKey('x25519', kek, Buffer.from(a.wrappedPrivateKey, 'base64'), userKeyAad(a.id, 1));
    for (const copy of recovered.enrol.dataKeys) {
      const bundle = request.dataKeys.find((k) => k.bundle.id === copy.keyId)?.bundle;
      expect(openDataKey({ id: a.id, key }, copy).publicKey.toBase64url()).toBe(bundle?.publicKey);
    }
  });
});
