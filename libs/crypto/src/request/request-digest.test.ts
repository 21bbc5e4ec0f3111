import { describe, expect, it } from 'vitest';
import { adminRequestDigest, canonicalJson } from './request-digest.ts';

describe('admin request digest v1', () => {
  it('is independent of key order and of the proof, and of undefined members', () => {
    const a = adminRequestDigest('signin.complete', { v: 1, userId: 'u', nested: { b: 2, a: [1, 'x'] }, proof: 'p1' });
    const b = adminRequestDigest('signin.complete', {
      nested: { a: [1, 'x'], b: 2 },
      userId: 'u',
      v: 1,
      extra: undefined,
      proof: 'p2',
    });
    expect(a).toBe(b);
    expect(canonicalJson({ b: [true, null], a: 'é' })).toBe('{"a":"é","b":[true,null]}');
  });

  it('changes with any added, removed or changed field, and with the operation', () => {
    const base = { v: 1, userId: 'u', session: 's' };
    const d = adminRequestDigest('signin.complete', base);
    expect(adminRequestDigest('signin.complete', { ...base, totpStep: 1 })).not.toBe(d);
    expect(adminRequestDigest('signin.complete', { ...base, rehash: { verifier: 'x' } })).not.toBe(d);
    expect(adminRequestDigest('signin.complete', { ...base, session: 't' })).not.toBe(d);
    expect(adminRequestDigest('me.password', base)).not.toBe(d);
  });

  it('matches its known answer (format v1)', () => {
    expect(adminRequestDigest('op', { v: 1 })).toBe('ee655404403f205ac7e339d1790d15f576137fa1147cb91c5998341e28d09bed'); // independently: sha256(00 17 label 00 02 "op" {"v":1});
  });
});
