import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { codeOf, failureOf } from '../../testing/error-codes.ts';
import { PrivateKey } from '../keys/keys.ts';
import { combineRecoveryShares, decodeShare, encodeShare, splitRecoveryKey } from './recovery-shares.ts';

const failure = failureOf;

function subsets<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  return items.flatMap((item, i) => subsets(items.slice(i + 1), k - 1).map((rest) => [item, ...rest]));
}

/** A printed share with its checksum (or a wrong one), for payloads encodeShare would not write. */
function printed(body: Buffer, badChecksum = false): string {
  const sum = createHash('sha256').update('coffer/share/v1').update(body).digest().subarray(0, 4);
  if (badChecksum) sum[0] = (sum[0] as number) ^ 1;
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let bits = '';
  for (const byte of Buffer.concat([body, sum])) bits += byte.toString(2).padStart(8, '0');
  bits = bits.padEnd(Math.ceil(bits.length / 5) * 5, '0');
  let out = 'COFFER-SHARE-';
  for (let i = 0; i < bits.length; i += 5) out += alphabet[Number.parseInt(bits.slice(i, i + 5), 2)];
  return out;
}

describe('recovery shares, 3 of 5', async () => {
  const recovery = PrivateKey.generate('x25519');
  const shares = await splitRecoveryKey(recovery, 5, 3);

  it('are printable groups with a recognisable prefix', () => {
    expect(shares).toHaveLength(5);
    for (const s of shares) expect(s).toMatch(/^COFFER-SHARE-([0-9A-HJKMNP-TV-Z]{5}-){14}[0-9A-HJKMNP-TV-Z]{1,5}$/);
    expect(decodeShare(shares[0] as string)).toMatchObject({ threshold: 3, count: 5 });
  });

  it('rebuild the key from every choice of three', async () => {
    const choices = subsets(shares, 3);
    expect(choices).toHaveLength(10);
    for (const choice of choices) {
      const key = await combineRecoveryShares(choice, recovery.publicKey, 3);
      expect(key.publicKey.equals(recovery.publicKey)).toBe(true);
    }
  });

  it('read back typed in lower case, with spaces, O for 0 and l for 1', async () => {
    const typed = shares
      .slice(0, 3)
      .map((s) => s.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l'));
    const key = await combineRecoveryShares(typed, recovery.publicKey, 3);
    expect(key.publicKey.equals(recovery.publicKey)).toBe(true);
  });

  it('name a mistyped share instead of combining a wrong key', async () => {
    const s = shares[1] as string;
    const pos = 20;
    const typo = s.slice(0, pos) + (s[pos] === 'A' ? 'B' : 'A') + s.slice(pos + 1);
    const f = await failure(() =>
      combineRecoveryShares([shares[0] as string, typo, shares[2] as string], recovery.publicKey, 3),
    );
    expect(f?.code).toBe('ShareChecksumMismatch');
    expect(f?.message).toMatch(/^share 2:/);
  });

  it('refuse too few, repeated, or foreign shares', async () => {
    expect((await failure(() => combineRecoveryShares(shares.slice(0, 2), recovery.publicKey, 3)))?.code).toBe(
      'ShareSetMismatch',
    );
    const repeated = [shares[0], shares[0], shares[1]] as string[];
    expect((await failure(() => combineRecoveryShares(repeated, recovery.publicKey, 3)))?.message).toMatch(
      /share 2 repeats/,
    );
    const foreign = await splitRecoveryKey(PrivateKey.generate('x25519'), 5, 3);
    const mixed = [shares[0], shares[1], foreign[2]] as string[];
    expect((await failure(() => combineRecoveryShares(mixed, recovery.publicKey, 3)))?.message).toMatch(
      /share 3 belongs to another/,
    );
  });

  it('refuse shares of another recovery key', async () => {
    const other = PrivateKey.generate('x25519');
    expect((await failure(() => combineRecoveryShares(shares.slice(0, 3), other.publicKey, 3)))?.code).toBe(
      'ShareSetMismatch',
    );
  });

  it('refuse well-formed shares of the right set that rebuild another key', async () => {
    const setId = createHash('sha256').update(recovery.publicKey.bytes()).digest().subarray(0, 4);
    const forged = [1, 2, 3].map((x) => encodeShare(3, 5, setId, Buffer.concat([randomBytes(32), Buffer.of(x)])));
    expect((await failure(() => combineRecoveryShares(forged, recovery.publicKey, 3)))?.code).toBe(
      'RecoveryKeyMismatch',
    );
  });

  it('take the threshold from the caller, not from the shares', async () => {
    const setId = createHash('sha256').update(recovery.publicKey.bytes()).digest().subarray(0, 4);
    const forge = (k: number, n: number, x: number) =>
      encodeShare(k, n, setId, Buffer.concat([randomBytes(32), Buffer.of(x)]));
    const cases: [string, string[], number][] = [
      ['two shares claiming 2-of-5 where the vault says 3', [forge(2, 5, 1), forge(2, 5, 2)], 3],
      ['genuine 3-of-5 shares where the vault says 2', shares.slice(0, 3), 2],
      ['genuine 3-of-5 shares where the vault says 4', shares.slice(0, 4), 4],
      ['share counts that disagree', [shares[0] as string, shares[1] as string, forge(3, 6, 77)], 3],
      ['no shares at all', [], 3],
    ];
    for (const [name, texts, k] of cases) {
      expect((await failure(() => combineRecoveryShares(texts, recovery.publicKey, k)))?.code, name).toBe(
        'ShareSetMismatch',
      );
    }
    for (const k of [0, 1, 2.5, 256]) {
      expect((await failure(() => combineRecoveryShares(shares, recovery.publicKey, k)))?.code, `${k}`).toBe(
        'WeakParameters',
      );
    }
  });

  it('refuse a share whose count is below its threshold, or whose x coordinate is 0', () => {
    const setId = createHash('sha256').update(recovery.publicKey.bytes()).digest().subarray(0, 4);
    expect(codeOf(() => decodeShare(encodeShare(3, 1, setId, Buffer.alloc(33, 1))))).toBe('Malformed');
    // split() never writes k < 2: a share claiming 1-of-1 would let one forged share decide the key.
    expect(codeOf(() => decodeShare(encodeShare(1, 1, setId, Buffer.alloc(33, 1))))).toBe('Malformed');
    expect(codeOf(() => decodeShare(encodeShare(3, 5, setId, Buffer.concat([randomBytes(32), Buffer.of(0)]))))).toBe(
      'Malformed',
    );
  });

  it('wipe the decoded bytes when a share is refused', () => {
    const allocated: Buffer[] = [];
    const alloc = Buffer.alloc.bind(Buffer);
    const spy = vi.spyOn(Buffer, 'alloc').mockImplementation((...args: Parameters<typeof Buffer.alloc>) => {
      const b = alloc(...args);
      allocated.push(b);
      return b;
    });
    try {
      const setId = createHash('sha256').update(recovery.publicKey.bytes()).digest().subarray(0, 4);
      const body = Buffer.concat([Buffer.of(2, 3, 5), setId, Buffer.alloc(32, 0x5a), Buffer.of(7)]);
      for (const text of [printed(body), printed(body, true), `${printed(body)}0`]) {
        allocated.length = 0;
        expect(codeOf(() => decodeShare(text))).toBeDefined();
        const decoded = allocated.filter((b) => b.length === 44);
        expect(decoded.length).toBeGreaterThan(0);
        for (const b of decoded) expect(b.equals(Buffer.alloc(44))).toBe(true);
      }
    } finally {
      spy.mockRestore();
    }
  });

  it('refuse an X25519 recovery key only: other kinds by name', async () => {
    const ed = PrivateKey.generate('ed25519') as unknown as PrivateKey<'x25519'>;
    expect((await failure(() => splitRecoveryKey(ed, 5, 3)))?.code).toBe('InvalidKey');
    expect((await failure(() => combineRecoveryShares(shares.slice(0, 3), ed.publicKey, 3)))?.code).toBe('InvalidKey');
  });

  it('refuse impossible thresholds', async () => {
    for (const [n, k] of [
      [5, 1],
      [2, 3],
      [256, 3],
    ] as const) {
      expect((await failure(() => splitRecoveryKey(recovery, n, k)))?.code).toBe('WeakParameters');
    }
  });
});
