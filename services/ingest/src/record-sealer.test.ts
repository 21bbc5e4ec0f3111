import { PrivateKey, parseRecordBlob } from '@coffer/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { VerifiedKey } from './data-key.ts';
import { RecordSealer } from './record-sealer.ts';

const key = (id: string): VerifiedKey => ({
  id,
  key: PrivateKey.generate('x25519').publicKey,
  notAfter: new Date(Date.now() + 60_000),
  notBefore: new Date(Date.now() - 60_000),
  signed: { bundle: {}, signature: '' },
});
const contextOf = (sealed: Buffer) => {
  const parsed = parseRecordBlob(sealed);
  if (parsed.version !== 2) throw new Error('expected a version-2 blob');
  return parsed;
};

let sealer: RecordSealer | undefined;
afterEach(() => sealer?.close());

describe('RecordSealer', () => {
  it('seals consecutive records under one context with increasing sequence numbers', () => {
    sealer = new RecordSealer();
    const k = key('dk-1');
    const a = sealer.seal(k, 'r1', 'pan', Buffer.from('4111111111111111'));
    const b = sealer.seal(k, 'r2', 'pan', Buffer.from('4111111111111111'));
    expect(a.context).toBe(b.context);
    expect(contextOf(a.sealed).sequence).toBe(0);
    expect(contextOf(b.sealed).sequence).toBe(1);
  });

  it('rolls the context at a key change and at its record bound', () => {
    // An age bound no test run reaches: a pause of the process between two seals (a busy machine)
    // must not be what rolls the context here.
    sealer = new RecordSealer({ maxRecords: 2, maxAgeMs: 3_600_000 });
    const k1 = key('dk-1');
    const first = sealer.seal(k1, 'r1', 'secret', Buffer.from('a')).context;
    expect(sealer.seal(k1, 'r2', 'secret', Buffer.from('b')).context).toBe(first);
    const third = sealer.seal(k1, 'r3', 'secret', Buffer.from('c')).context;
    expect(third.id).not.toBe(first.id);
    const k2 = key('dk-2');
    const other = sealer.seal(k2, 'r4', 'secret', Buffer.from('d')).context;
    expect(other.id).not.toBe(third.id);
    expect(other.keyId).toBe('dk-2');
    expect(sealer.seal(k2, 'r5', 'secret', Buffer.from('e')).context).toBe(other);
  });

  it('rolls the context at its age bound', async () => {
    sealer = new RecordSealer({ maxRecords: 4096, maxAgeMs: 50 });
    const k = key('dk-1');
    const first = sealer.seal(k, 'r1', 'secret', Buffer.from('a')).context;
    await new Promise((r) => setTimeout(r, 80));
    expect(sealer.seal(k, 'r2', 'secret', Buffer.from('b')).context.id).not.toBe(first.id);
  });
});
