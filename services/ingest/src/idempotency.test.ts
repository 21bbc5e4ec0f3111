import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { IdempotencyCache } from './idempotency.ts';

const body = (s: string) => Buffer.from(s, 'utf8');
const prepared = (bytes: number) => ({ byteLength: bytes });

describe('the idempotency cache', () => {
  afterEach(() => vi.useRealTimers());

  it('fingerprints bodies with a key of its own: not SHA-256, and different in another process', () => {
    const a = new IdempotencyCache(60_000);
    const b = new IdempotencyCache(60_000);
    const ssn = body('ssn\n123-45-6789');
    expect(a.fingerprint(ssn).equals(a.fingerprint(ssn))).toBe(true);
    expect(a.fingerprint(ssn).equals(b.fingerprint(ssn))).toBe(false);
    expect(a.fingerprint(ssn).equals(createHash('sha256').update(ssn).digest())).toBe(false);
    a.clear();
    b.clear();
  });

  it('gives the first submission back for the same body and refuses another', () => {
    const cache = new IdempotencyCache(60_000);
    const first = cache.prepare('k', body('pan\n4111111111111111'), 0, () => prepared(10));
    expect(cache.prepare('k', body('pan\n4111111111111111'), 1, () => prepared(10))).toBe(first);
    expect(cache.prepare('k', body('pan\n5555555555554444'), 2, () => prepared(10))).toBe('conflict');
    cache.clear();
  });

  it('expires entries on a timer, with no request to trigger it', () => {
    vi.useFakeTimers({ now: 0 });
    const cache = new IdempotencyCache(8_000);
    cache.prepare('k', body('secret\nx'), Date.now(), () => prepared(10));
    expect(cache.size.entries).toBe(1);
    vi.advanceTimersByTime(10_000);
    expect(cache.size).toEqual({ entries: 0, bytes: 0 });
    cache.clear();
  });

  it('is bounded in bytes, not only in entries: the oldest go first', () => {
    const cache = new IdempotencyCache(60_000, { maxEntries: 1_000, maxBytes: 20_000 });
    for (let i = 0; i < 10; i++) cache.prepare(`k${i}`, body(`secret\n${i}`), i, () => prepared(4_000));
    expect(cache.size.bytes).toBeLessThanOrEqual(20_000);
    expect(cache.size.entries).toBe(4);
    // The newest is still deduplicated; the oldest was pushed out and would be made again.
    const newest = cache.prepare('k9', body('secret\n9'), 11, () => prepared(4_000));
    expect(cache.prepare('k9', body('secret\n9'), 12, () => prepared(1))).toBe(newest);
    let made = false;
    cache.prepare('k0', body('secret\n0'), 13, () => {
      made = true;
      return prepared(1);
    });
    expect(made).toBe(true);
    cache.clear();
  });

  it('wipes the fingerprints it lets go of', () => {
    vi.useFakeTimers({ now: 0 });
    const cache = new IdempotencyCache(8_000);
    const spy = vi.spyOn(cache, 'fingerprint');
    cache.prepare('k', body('ssn\n123-45-6789'), Date.now(), () => prepared(10));
    const kept = spy.mock.results[0]?.value as Buffer;
    expect(kept.some((b) => b !== 0)).toBe(true);
    vi.advanceTimersByTime(10_000);
    expect(kept.every((b) => b === 0)).toBe(true);
    cache.clear();
  });
});
