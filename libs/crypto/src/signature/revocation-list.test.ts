import { describe, expect, it } from 'vitest';
import { PrivateKey } from '../keys/keys.ts';
import {
  isRevoked,
  type RevocationList,
  signRevocationList,
  sortRevocationEntries,
  verifyRevocationList,
} from './revocation-list.ts';

describe('signed revocation list v1', () => {
  const org = PrivateKey.generate('ed25519');
  const list: RevocationList = {
    v: 1,
    counter: 3,
    issuedAt: '2026-12-02T04:00:00.000Z',
    entries: sortRevocationEntries([
      { userId: 'u-2', publicKey: 'key-b' },
      { userId: 'u-1', publicKey: null },
    ]),
  };

  it('verifies as signed and says who is revoked', () => {
    const read = verifyRevocationList(org.publicKey, JSON.parse(JSON.stringify(list)), signRevocationList(org, list));
    expect(read).toEqual(list);
    expect(isRevoked(read, 'u-1', 'any key')).toBe(true);
    expect(isRevoked(read, 'u-2', 'key-b')).toBe(true);
    expect(isRevoked(read, 'u-2', 'key-c')).toBe(false);
    expect(isRevoked(read, 'u-3', null)).toBe(false);
  });

  it('refuses a changed counter, a dropped entry, unsorted entries and another key', () => {
    const sig = signRevocationList(org, list);
    expect(() => verifyRevocationList(org.publicKey, { ...list, counter: 4 }, sig)).toThrow();
    expect(() => verifyRevocationList(org.publicKey, { ...list, entries: list.entries.slice(1) }, sig)).toThrow();
    expect(() => verifyRevocationList(org.publicKey, { ...list, entries: [...list.entries].reverse() }, sig)).toThrow(
      /sorted/,
    );
    expect(() => verifyRevocationList(PrivateKey.generate('ed25519').publicKey, list, sig)).toThrow();
    expect(() => verifyRevocationList(org.publicKey, { ...list, extra: 1 }, sig)).toThrow(/unexpected/);
  });
});
