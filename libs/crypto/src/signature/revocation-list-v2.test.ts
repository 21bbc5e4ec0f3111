import { describe, expect, it } from 'vitest';
import { PrivateKey } from '../keys/keys.ts';
import {
  isRevoked,
  namesRevocation,
  REVOCATION_LIST_MAX_ENTRIES,
  type RevocationListV1,
  type RevocationListV2,
  revocationEntriesOf,
  revocationEntry,
  revokedKeyFingerprint,
  signRevocationList,
  sortRevocationEntries,
  verifyRevocationList,
} from './revocation-list.ts';

// Fixed keys, so the fingerprint and the (deterministic) Ed25519 signature are known answers.
const org = PrivateKey.fromBytes('ed25519', Buffer.alloc(32, 1));
const oldKey = PrivateKey.fromBytes('x25519', Buffer.alloc(32, 2)).publicKey.toBase64url();
const newKey = PrivateKey.fromBytes('x25519', Buffer.alloc(32, 3)).publicKey.toBase64url();
const OLD_FINGERPRINT = '022705747880041033306850401784';
const KAT_SIGNATURE = 'NeSdNCptm5ooeWsDIw96cf19nGNDpvUnuBQW1tFzIKy8EH7abJAxtzmZ1YUo4BLU9NDzsq811Pqc4yJXnNwbAw';

describe('signed revocation list v2 (keys named by fingerprint)', () => {
  const list: RevocationListV2 = {
    v: 2,
    counter: 3,
    issuedAt: '2026-12-02T04:00:00.000Z',
    entries: sortRevocationEntries([revocationEntry('u-2', oldKey), revocationEntry('u-1', null)]),
  };

  it('names a key by the 30-digit fingerprint of its kind, and signs the known answer', () => {
    expect(revokedKeyFingerprint(oldKey)).toBe(OLD_FINGERPRINT);
    expect(list.entries).toEqual([
      { userId: 'u-1', fingerprint: null },
      { userId: 'u-2', fingerprint: OLD_FINGERPRINT },
    ]);
    expect(signRevocationList(org, list)).toBe(KAT_SIGNATURE);
  });

  it('verifies as signed and compares a candidate key by its fingerprint', () => {
    const read = verifyRevocationList(org.publicKey, JSON.parse(JSON.stringify(list)), KAT_SIGNATURE);
    expect(read).toEqual(list);
    expect(isRevoked(read, 'u-1', newKey)).toBe(true);
    expect(isRevoked(read, 'u-2', oldKey)).toBe(true);
    expect(isRevoked(read, 'u-2', newKey)).toBe(false);
    expect(isRevoked(read, 'u-3', oldKey)).toBe(false);
    expect(isRevoked(read, 'u-2', 'not a key')).toBe(false);
  });

  it('refuses a changed entry, a v1-shaped entry, a bad fingerprint and a v1 label', () => {
    const bad = (changed: unknown) => () => verifyRevocationList(org.publicKey, changed, KAT_SIGNATURE);
    const fp = revokedKeyFingerprint(newKey);
    expect(bad({ ...list, entries: [list.entries[0], { userId: 'u-2', fingerprint: fp }] })).toThrow();
    expect(bad({ ...list, entries: [list.entries[0], { userId: 'u-2', publicKey: oldKey }] })).toThrow(/unexpected/);
    expect(bad({ ...list, entries: [list.entries[0], { userId: 'u-2', fingerprint: oldKey }] })).toThrow(/30 digits/);
    // The same entries signed as v1 (a different label) do not verify as this v2 list.
    const asV1 = { ...list, v: 1, entries: [{ userId: 'u-1', publicKey: null }] };
    expect(() => verifyRevocationList(org.publicKey, asV1, KAT_SIGNATURE)).toThrow();
  });

  it('reads a v1 list with X25519 keys the same way, and carries it on into v2', () => {
    const v1: RevocationListV1 = {
      v: 1,
      counter: 2,
      issuedAt: '2026-12-01T04:00:00.000Z',
      entries: sortRevocationEntries([{ userId: 'u-2', publicKey: oldKey }]),
    };
    const read = verifyRevocationList(org.publicKey, v1, signRevocationList(org, v1));
    expect(isRevoked(read, 'u-2', oldKey)).toBe(true);
    expect(isRevoked(read, 'u-2', newKey)).toBe(false);
    expect(revocationEntriesOf(read)).toEqual([{ userId: 'u-2', fingerprint: OLD_FINGERPRINT }]);
    expect(namesRevocation(read, revocationEntry('u-2', oldKey))).toBe(true);
    expect(namesRevocation(list, revocationEntriesOf(read)[0] as never)).toBe(true);
    expect(namesRevocation(list, revocationEntry('u-2', newKey))).toBe(false);
  });

  it('fits 4,096 X-Wing entries in one bus message (1 MiB), where v1 would not', () => {
    // 64 real X-Wing keys across 4,096 people (ids at the 64-character maximum): a fingerprint is
    // 30 digits whatever the key, so the size is that of 4,096 distinct keys.
    const keys = Array.from({ length: 64 }, () => PrivateKey.generate('xwing').publicKey.toBase64url());
    expect(keys[0]).toHaveLength(1622);
    const people = Array.from({ length: REVOCATION_LIST_MAX_ENTRIES }, (_, i) => ({
      userId: `u-${String(i).padStart(62, '0')}`,
      publicKey: keys[i % keys.length] as string,
    }));
    const big: RevocationListV2 = {
      v: 2,
      counter: 4096,
      issuedAt: '2026-12-02T04:00:00.000Z',
      entries: sortRevocationEntries(people.map((p) => revocationEntry(p.userId, p.publicKey))),
    };
    // As admin's revocation-pin.ts puts it into the REVOCATIONS bucket: {v: 1, signed: {list, signature}}.
    const onBus = (l: unknown) =>
      Buffer.byteLength(JSON.stringify({ v: 1, signed: { list: l, signature: signRevocationList(org, l as never) } }));
    expect(verifyRevocationList(org.publicKey, big, signRevocationList(org, big)).entries).toHaveLength(4096);
    expect(onBus(big)).toBeLessThanOrEqual(1024 * 1024);
    const asV1: RevocationListV1 = { ...big, v: 1, entries: sortRevocationEntries(people) };
    expect(onBus(asV1)).toBeGreaterThan(1024 * 1024);
  });
});
