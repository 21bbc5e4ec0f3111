import {
  PrivateKey,
  PublicKey,
  recordBinding,
  seal,
  signDataKeyBundle,
  signOrgConfig,
  signUserCertificate,
  verifyDataKeyBundle,
} from '@coffer/crypto';
import { describe, expect, it } from 'vitest';
import { runCeremony } from './ceremony.ts';
import { type Holder, openDataKey, rewrapDataKeys, wrapDataKey, wrapOrgKey } from './holder.ts';
import { pregenerateDataKeys } from './pregenerate.ts';
import { orgSuite, SuiteRefused } from './suite.ts';

const NOW = new Date('2026-03-01T10:00:00.123Z');

const signedBundle =
  (orgKey: PrivateKey<'ed25519'>) => (suite: 'x25519' | 'xwing', id: string, notBefore: string, notAfter: string) => {
    const publicKey = PrivateKey.generate(suite).publicKey.toBase64url();
    const bundle =
      suite === 'xwing' ? { id, suite, publicKey, notBefore, notAfter } : { id, publicKey, notBefore, notAfter };
    return { bundle, signature: signDataKeyBundle(orgKey, bundle) };
  };

function org() {
  const orgKey = PrivateKey.generate('ed25519');
  const recovery = PrivateKey.generate('x25519');
  const publicKey = recovery.publicKey.toBase64url();
  const admin = PrivateKey.generate('x25519');
  const adminId = crypto.randomUUID();
  const adminPublic = admin.publicKey.toBase64url();
  return {
    orgKey,
    admin: { id: adminId, key: admin } as Holder,
    material: {
      orgKeyId: 'org-1',
      orgKey: wrapOrgKey(orgKey, 'org-1', { id: adminId, key: admin.publicKey }),
      recipients: [
        {
          id: adminId,
          role: 'key-admin' as const,
          publicKey: adminPublic,
          certificateSignature: signUserCertificate(orgKey, { id: adminId, role: 'key-admin', publicKey: adminPublic }),
        },
      ],
      recovery: {
        id: 'recovery-1',
        publicKey,
        certificate: signUserCertificate(orgKey, { id: 'recovery-1', role: 'recovery', publicKey }),
      },
      lastNotAfter: null,
    },
  };
}

const signed = (orgKey: PrivateKey<'ed25519'>, suite: 'x25519' | 'xwing', orgKeyId = 'org-1') => {
  const config = { v: 1 as const, orgKeyId, suite };
  return { config, signature: signOrgConfig(orgKey, config) };
};

describe('suites: the org configuration decides, and cannot be downgraded by the database', () => {
  it('a new org made with X-Wing mints X-Wing data keys named in v2 bundles, opened by their holders', async () => {
    const made = await runCeremony({
      adminEmail: 'ka@example.com',
      adminPassword: 'saffron-quarry-meridian-6620-slowly',
      shares: 3,
      threshold: 2,
      dataKeyDays: 90,
      horizonDays: 90,
      now: NOW,
      suite: 'xwing',
    });
    const trustRoot = PublicKey.fromBase64url('ed25519', made.trustRoot);
    expect(made.request.org.config).toEqual({ v: 1, orgKeyId: made.request.org.orgKeyId, suite: 'xwing' });
    for (const k of made.request.dataKeys) expect(k.bundle.suite).toBe('xwing');
    const { config, configSignature } = made.request.org;
    expect(
      orgSuite(trustRoot, {
        orgKeyId: made.request.org.orgKeyId,
        config: { config, signature: configSignature ?? '' },
        newestKey: null,
      }),
    ).toBe('xwing');
    for (const k of made.request.dataKeys) {
      expect(verifyDataKeyBundle(trustRoot, k.bundle, k.signature, ['x25519', 'xwing']).key.kind).toBe('xwing');
      // Wrapped to the key-admin and to the recovery key, as X-Wing keys.
      expect(k.copies.map((c) => c.recipientKind).sort()).toEqual(['recovery', 'user']);
    }
  });

  it('pre-generates in the signed suite; an altered, foreign or dropped configuration is refused', () => {
    const o = org();
    const made = pregenerateDataKeys(
      o.admin,
      { ...o.material, config: signed(o.orgKey, 'xwing'), newestKey: null },
      o.orgKey.publicKey,
      null,
      { count: 1, days: 30, now: NOW },
    );
    const [k] = made.dataKeys;
    if (!k) throw new Error('nothing made');
    const verified = verifyDataKeyBundle(o.orgKey.publicKey, k.bundle, k.signature, ['x25519', 'xwing']);
    expect(verified.suite).toBe('xwing');
    // An X25519-only verifier refuses the X-Wing bundle by name, it does not read it as X25519.
    expect(() => verifyDataKeyBundle(o.orgKey.publicKey, k.bundle, k.signature)).toThrow(
      expect.objectContaining({ code: 'UnsupportedSuite' }),
    );
    const copy = k.copies.find((c) => c.recipientId === o.admin.id);
    if (!copy) throw new Error('no copy');
    const dataKey = openDataKey(o.admin, { keyId: k.bundle.id, wrapped: copy.wrapped }, 'xwing');
    expect(dataKey.publicKey.toBase64url()).toBe(k.bundle.publicKey);
    expect(() => openDataKey(o.admin, { keyId: k.bundle.id, wrapped: copy.wrapped }, 'x25519')).toThrow(
      expect.objectContaining({ code: 'WrongKeyKind' }),
    );
    // Handing keys of both suites to someone new keeps each one's kind.
    const old = PrivateKey.generate('x25519');
    const oldCopy = { keyId: 'old', wrapped: wrapDataKey(old, 'old', { id: o.admin.id, key: o.admin.key.publicKey }) };
    const next = { id: 'next', key: PrivateKey.generate('x25519') };
    const handed = rewrapDataKeys(o.admin, [{ keyId: k.bundle.id, wrapped: copy.wrapped }, oldCopy], {
      id: next.id,
      key: next.key.publicKey,
    });
    expect(openDataKey(next, handed[0] as (typeof handed)[0], 'xwing').publicKey.toBase64url()).toBe(
      k.bundle.publicKey,
    );
    expect(openDataKey(next, handed[1] as (typeof handed)[0], 'x25519').publicKey.toBase64url()).toBe(
      old.publicKey.toBase64url(),
    );

    const root = o.orgKey.publicKey;
    const newestKey = { bundle: k.bundle, signature: k.signature };
    const forged = {
      config: { v: 1, orgKeyId: 'org-1', suite: 'x25519' },
      signature: signed(o.orgKey, 'xwing').signature,
    };
    expect(() => orgSuite(root, { orgKeyId: 'org-1', config: forged, newestKey })).toThrow(SuiteRefused);
    const foreign = signed(PrivateKey.generate('ed25519'), 'x25519');
    expect(() => orgSuite(root, { orgKeyId: 'org-1', config: foreign, newestKey })).toThrow(SuiteRefused);
    const otherOrg = signed(o.orgKey, 'x25519', 'org-2');
    expect(() => orgSuite(root, { orgKeyId: 'org-1', config: otherOrg, newestKey })).toThrow(SuiteRefused);
    // Dropping the configuration of an X-Wing org is seen by its newest, org-signed data key.
    expect(() => orgSuite(root, { orgKeyId: 'org-1', config: null, newestKey })).toThrow(SuiteRefused);
  });

  it('an org made before suites (no configuration, X25519 keys) stays X25519', () => {
    const o = org();
    const key = PrivateKey.generate('x25519');
    const bundle = {
      id: 'dk-old',
      publicKey: key.publicKey.toBase64url(),
      notBefore: '2026-01-01T00:00:00.000Z',
      notAfter: '2026-04-01T00:00:00.000Z',
    };
    const newestKey = { bundle, signature: signDataKeyBundle(o.orgKey, bundle) };
    expect(orgSuite(o.orgKey.publicKey, { orgKeyId: 'org-1', config: null, newestKey })).toBe('x25519');
    const made = pregenerateDataKeys(o.admin, { ...o.material, config: null, newestKey }, o.orgKey.publicKey, null, {
      count: 1,
      days: 30,
      now: NOW,
    });
    expect(made.dataKeys[0]?.bundle.suite).toBeUndefined();
    expect(seal(key.publicKey, Buffer.from('x'), recordBinding('r', 'secret', 'dk-old')).length).toBeGreaterThan(0);
  });
  it('takes the newest data key by its signed window, not by the one the vault calls newest', () => {
    // An org moved from X25519 to X-Wing; a database writer restores its first (X25519, validly
    // signed) configuration and stretches the old X25519 key's not_after column past the X-Wing
    // keys, so the vault's newest by that column is the X25519 key.
    const o = org();
    const root = o.orgKey.publicKey;
    const bundleOf = signedBundle(o.orgKey);
    const old = bundleOf('x25519', 'dk-old', '2026-01-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z');
    const xwing = [
      bundleOf('xwing', 'dk-pq-1', '2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z'),
      bundleOf('xwing', 'dk-pq-2', '2026-04-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z'),
    ];
    const material = {
      orgKeyId: 'org-1',
      config: signed(o.orgKey, 'x25519'),
      newestKey: old,
      dataKeyBundles: [...xwing, old],
    };
    expect(() => orgSuite(root, material)).toThrow(SuiteRefused);
    expect(() => orgSuite(root, { ...material, config: null })).toThrow(SuiteRefused);
    // A bundle whose signed dates were edited to hide it does not verify: refused, not skipped.
    const edited = { ...xwing[1], bundle: { ...xwing[1]?.bundle, notAfter: '2026-02-01T00:00:00.000Z' } };
    expect(() => orgSuite(root, { ...material, dataKeyBundles: [xwing[0], edited, old] as never })).toThrow(
      /does not verify/,
    );
    // Only X25519 keys: an org before suites (or one never moved) stays X25519.
    expect(orgSuite(root, { ...material, dataKeyBundles: [old] })).toBe('x25519');
  });

  it('refuses X25519 while any X-Wing key is sent, even one whose window ends first (rows rolled back)', () => {
    // An org moved to X-Wing; a database writer re-inserts the destroyed future X25519 keys from a
    // backup (genuine bundles), deletes the unused future X-Wing ones and restores the first
    // configuration. The X-Wing key records use stays: its window ends before the X25519 ones.
    const o = org();
    const root = o.orgKey.publicKey;
    const bundleOf = signedBundle(o.orgKey);
    const used = bundleOf('xwing', 'dk-pq-used', '2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z');
    const revived = [
      bundleOf('x25519', 'dk-old-2', '2026-04-01T00:00:00.000Z', '2026-05-01T00:00:00.000Z'),
      bundleOf('x25519', 'dk-old-3', '2026-05-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z'),
    ];
    const material = { orgKeyId: 'org-1', config: signed(o.orgKey, 'x25519'), dataKeyBundles: [...revived, used] };
    expect(() => orgSuite(root, material)).toThrow(/x25519 but an org-signed data key is xwing/);
    expect(() => orgSuite(root, { ...material, config: null })).toThrow(SuiteRefused);
    expect(orgSuite(root, { ...material, config: signed(o.orgKey, 'xwing') })).toBe('xwing');
    // A bundle sent twice (a row copied over another) is refused.
    expect(orgSuite(root, { ...material, dataKeyBundles: revived })).toBe('x25519');
    expect(() => orgSuite(root, { ...material, dataKeyBundles: [...revived, ...revived] })).toThrow(/sent twice/);
  });
});
