import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { recordBinding } from '../bindings.ts';
import { CryptoError } from '../errors.ts';
import { deriveKeyPair } from '../hpke/hpke.ts';
import { PrivateKey } from '../keys/keys.ts';
import { open, parseSealedBlob, SEALED_BLOB_OVERHEAD, seal } from './sealed-blob.ts';

interface Vector {
  description: string;
  recipientIkm: string;
  info: string;
  aad: string;
  blob: string;
  expect: { plaintext: string } | { error: string };
}

const dir = join(import.meta.dirname, 'vectors');
const vectors = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(dir, f), 'utf8')) as Vector] as const);

describe('sealed-blob vectors', () => {
  it('are all present', () => {
    expect(vectors.length).toBe(22);
  });

  it.each(vectors)('%s', (_name, v) => {
    const identity = deriveKeyPair(Buffer.from(v.recipientIkm, 'hex'));
    const run = () => open(identity, Buffer.from(v.blob, 'hex'), { info: v.info, aad: Buffer.from(v.aad, 'hex') });
    if ('plaintext' in v.expect) {
      expect(run().toString('hex')).toBe(v.expect.plaintext);
    } else {
      let caught: unknown;
      try {
        run();
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(CryptoError);
      expect((caught as CryptoError).code).toBe(v.expect.error);
    }
  });
});

describe('seal', () => {
  const identity = PrivateKey.generate('x25519');
  const binding = recordBinding('r1', 'secret', 'k1');

  it('round-trips and never repeats a ciphertext', () => {
    const value = Buffer.from('correct horse battery staple');
    const a = seal(identity.publicKey, value, binding);
    const b = seal(identity.publicKey, value, binding);
    expect(a.equals(b)).toBe(false);
    expect(a.length).toBe(value.length + SEALED_BLOB_OVERHEAD);
    expect(open(identity, a, binding).equals(value)).toBe(true);
    expect(parseSealedBlob(a).version).toBe(1);
  });

  it('does not contain the plaintext', () => {
    const value = Buffer.from('4111111111111111');
    expect(seal(identity.publicKey, value, binding).includes(value)).toBe(false);
  });
});
