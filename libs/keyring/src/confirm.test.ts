/**
 * Confirmation's handling of the secrets it opens (review finding): each data key the key-admin
 * holds is unwrapped once — not once to check its suite and again to re-wrap it — and every key
 * it unwrapped (the org key too) is destroyed before grantToUser returns or throws.
 */
import { PrivateKey } from '@coffer/crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { grantToUser } from './confirm.ts';
import { type Holder, openDataKey, wrapOrgKey } from './holder.ts';
import { dataKeyWindows, mintDataKeys } from './mint.ts';
import { SuiteRefused } from './suite.ts';

const NOW = new Date('2026-12-02T10:00:00.000Z');

/** A key-admin holding the org key and three data keys of `suite`, whose key counts its unwraps. */
function keyAdmin(suite: 'x25519' | 'xwing') {
  const orgKey = PrivateKey.generate('ed25519');
  const own = PrivateKey.generate(suite);
  const id = crypto.randomUUID();
  const counted = { unwraps: 0 };
  // Every unwrap reads the holder's key once (holder.ts): the count of reads is the count of unwraps.
  const holder: Holder = {
    id,
    get key() {
      counted.unwraps++;
      return own;
    },
  };
  const minted = mintDataKeys(orgKey, [{ kind: 'user', id, key: own.publicKey }], dataKeyWindows(NOW, 30, 3), suite);
  const held = {
    orgKeyId: 'org-1',
    orgKey: wrapOrgKey(orgKey, 'org-1', { id, key: own.publicKey }),
    dataKeys: minted.map((k) => ({ keyId: k.bundle.id, wrapped: k.copies[0]?.wrapped as string })),
  };
  return { holder, held, counted, minted };
}

const newUser = (role: 'viewer' | 'key-admin', kind: 'x25519' | 'xwing') => {
  const key = PrivateKey.generate(kind);
  return { key, user: { id: crypto.randomUUID(), role, publicKey: key.publicKey.toBase64url() } };
};

describe('grantToUser: each secret opened once, and wiped', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each([
    ['viewer', 'x25519'],
    ['key-admin', 'x25519'],
    ['viewer', 'xwing'],
  ] as const)('a %s in an %s org: one unwrap per data key, every unwrapped key destroyed', (role, suite) => {
    const { holder, held, counted, minted } = keyAdmin(suite);
    const { key, user } = newUser(role, suite);
    const destroy = vi.spyOn(PrivateKey.prototype, 'destroy');
    const grant = grantToUser(holder, held, user, null);
    expect(counted.unwraps).toBe(1 + held.dataKeys.length); // the org key, and each data key once
    expect(new Set(destroy.mock.contexts).size).toBe(counted.unwraps);
    // And the grant is whole: each copy opens, for the new user, to the data key it names.
    expect(grant.dataKeys.map((c) => c.keyId)).toEqual(minted.map((k) => k.bundle.id));
    for (const [i, copy] of grant.dataKeys.entries()) {
      expect(openDataKey({ id: user.id, key }, copy, suite).publicKey.toBase64url()).toBe(minted[i]?.bundle.publicKey);
    }
  });

  it('refusing an X25519 key in an org holding X-Wing data keys wipes what it opened too', () => {
    const { holder, held, counted } = keyAdmin('xwing');
    const { user } = newUser('viewer', 'x25519');
    const destroy = vi.spyOn(PrivateKey.prototype, 'destroy');
    expect(() => grantToUser(holder, held, user, null)).toThrow(SuiteRefused);
    expect(counted.unwraps).toBeGreaterThan(0);
    expect(new Set(destroy.mock.contexts).size).toBe(counted.unwraps);
  });
});
