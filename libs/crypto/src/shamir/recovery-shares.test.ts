import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CryptoError } from '../errors.ts';
import { PrivateKey } from '../keys/keys.ts';
import { combineRecoveryShares, decodeShare, encodeShare, splitRecoveryKey } from './recovery-shares.ts';

async function failure(run: () => Promise<unknown>): Promise<{ code: string; message: string } | undefined> {
  try {
    await run();
  } catch (err) {
    if (err instanceof CryptoError) return { code: err.code, message: err.message };
    throw err;
  }
  return undefined;
}

function subsets<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  return items.flatMap((item, i) => subsets(items.slice(i + 1), k - 1).map((rest) => [item, ...rest]));
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
      const key = await combineRecoveryShares(choice, recovery.publicKey);
      expect(key.publicKey.equals(recovery.publicKey)).toBe(true);
    }
  });

  it('read back typed in lower case, with spaces, O for 0 and l for 1', async () => {
    const typed = shares
      .slice(0, 3)
      .map((s) => s.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l'));
    const key = await combineRecoveryShares(typed, recovery.publicKey);
    expect(key.publicKey.equals(recovery.publicKey)).toBe(true);
  });

  it('name a mistyped share instead of combining a wrong key', async () => {
    const s = shares[1] as string;
    const pos = 20;
    const typo = s.slice(0, pos) + (s[pos] === 'A' ? 'B' : 'A') + s.slice(pos + 1);
    const f = await failure(() =>
      combineRecoveryShares([shares[0] as string, typo, shares[2] as string], recovery.publicKey),
    );
    expect(f?.code).toBe('ShareChecksumMismatch');
    expect(f?.message).toMatch(/^share 2:/);
  });

  it('refuse too few, repeated, or foreign shares', async () => {
    expect((await failure(() => combineRecoveryShares(shares.slice(0, 2), recovery.publicKey)))?.code).toBe(
      'ShareSetMismatch',
    );
    const repeated = [shares[0], shares[0], shares[1]] as string[];
    expect((await failure(() => combineRecoveryShares(repeated, recovery.publicKey)))?.message).toMatch(
      /share 2 repeats/,
    );
    const foreign = await splitRecoveryKey(PrivateKey.generate('x25519'), 5, 3);
    const mixed = [shares[0], shares[1], foreign[2]] as string[];
    expect((await failure(() => combineRecoveryShares(mixed, recovery.publicKey)))?.message).toMatch(
      /share 3 belongs to another/,
    );
  });

  it('refuse a rebuilt key that is not the expected recovery key', async () => {
    const other = PrivateKey.generate('x25519');
    expect((await failure(() => combineRecoveryShares(shares.slice(0, 3), other.publicKey)))?.code).toBe(
      'ShareSetMismatch',
    );
  });

  it('refuse well-formed shares of the right set that rebuild another key', async () => {
    const setId = createHash('sha256').update(recovery.publicKey.bytes()).digest().subarray(0, 4);
    const forged = [1, 2, 3].map((x) => encodeShare(3, 5, setId, Buffer.concat([randomBytes(32), Buffer.of(x)])));
    expect((await failure(() => combineRecoveryShares(forged, recovery.publicKey)))?.code).toBe('RecoveryKeyMismatch');
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
