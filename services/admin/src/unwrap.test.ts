import { PrivateKey, RecordSealingContext, recordBinding, seal } from '@coffer/crypto';
import { describe, expect, it } from 'vitest';
import { RecordOpener } from './unwrap.ts';

describe('RecordOpener (exports)', () => {
  const dataKey = PrivateKey.generate('x25519');
  const record = (id: string, sealed: Buffer, contextEnc: Buffer | null) => ({
    id,
    type: 'secret',
    dataKeyId: 'dk-1',
    sealed: sealed.toString('base64'),
    contextEnc: contextEnc?.toString('base64') ?? null,
  });

  it('opens records of several contexts and of version 1, also past its cache bound', () => {
    const opener = new RecordOpener(2);
    const contexts = [0, 1, 2].map(() => RecordSealingContext.create(dataKey.publicKey, 'dk-1'));
    const records = [];
    for (let i = 0; i < 30; i++) {
      const id = `0193a4b0-7c1e-7000-8000-${String(i).padStart(12, '0')}`;
      const c = contexts[i % 3] as RecordSealingContext;
      records.push([record(id, c.seal(id, 'secret', Buffer.from(`v${i}`)), c.enc), `v${i}`] as const);
      const v1 = `0193a4b0-7c1e-7000-9000-${String(i).padStart(12, '0')}`;
      const sealed = seal(dataKey.publicKey, Buffer.from(`old${i}`), recordBinding(v1, 'secret', 'dk-1'));
      records.push([record(v1, sealed, null), `old${i}`] as const);
    }
    for (const [r, value] of records) expect(opener.open(dataKey, r).toString()).toBe(value);
    opener.destroy();
  });

  it('refuses a record whose context key was swapped', () => {
    const opener = new RecordOpener();
    const a = RecordSealingContext.create(dataKey.publicKey, 'dk-1');
    const b = RecordSealingContext.create(dataKey.publicKey, 'dk-1');
    const id = '0193a4b0-7c1e-7000-8000-000000000001';
    expect(() => opener.open(dataKey, record(id, a.seal(id, 'secret', Buffer.from('x')), b.enc))).toThrow(
      expect.objectContaining({ code: 'DecryptionFailed' }),
    );
  });
});
