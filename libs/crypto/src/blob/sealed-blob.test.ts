import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataKeyWrapBinding, orgKeyWrapBinding, recordBinding } from '../bindings.ts';
import { CryptoError } from '../errors.ts';
import { COFFER_SUITE, Context, deriveKeyPair, kemSharedSecret, keySchedule } from '../hpke/hpke.ts';
import { PrivateKey } from '../keys/keys.ts';
import { open, openBlob, parseSealedBlob, SEALED_BLOB_OVERHEAD, seal } from './sealed-blob.ts';

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

  // The vectors check the format and its authentication, so they go through the unchecked opener:
  // `wrong-info` opens with a wrapped-key info, which the public `open` refuses before decrypting.
  it.each(vectors)('%s', (_name, v) => {
    const identity = deriveKeyPair(Buffer.from(v.recipientIkm, 'hex'));
    const run = () => openBlob(identity, Buffer.from(v.blob, 'hex'), { info: v.info, aad: Buffer.from(v.aad, 'hex') });
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

describe('low-order-enc', () => {
  const v = Object.fromEntries(vectors)['low-order-enc'] as Vector;

  // If the all-zero DH check were skipped, the shared secret would come from 32 zero bytes. The
  // vector's ciphertext must authenticate under that secret, or the test passes for another reason.
  it('would open if an all-zero DH output were accepted', () => {
    const identity = deriveKeyPair(Buffer.from(v.recipientIkm, 'hex'));
    const { enc, ciphertext } = parseSealedBlob(Buffer.from(v.blob, 'hex'));
    expect(enc.equals(Buffer.alloc(32))).toBe(true);
    const shared = kemSharedSecret(Buffer.alloc(32), enc, identity.publicKey);
    const context = new Context(keySchedule(COFFER_SUITE, shared, Buffer.from(v.info)));
    expect(context.open(Buffer.from(v.aad, 'hex'), ciphertext).toString('hex')).toBe(
      Buffer.from('4111111111111111').toString('hex'),
    );
    context.destroy();
    expect(v.description).toMatch(/only .*all-zero/);
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

describe('public seal and open', () => {
  const identity = PrivateKey.generate('x25519');

  it('refuse wrapped-key bindings by name: wrapped keys go through wrap/unwrap only', () => {
    const codeOf = (run: () => unknown) => {
      try {
        run();
      } catch (err) {
        return (err as CryptoError).code;
      }
      return undefined;
    };
    for (const binding of [dataKeyWrapBinding('dk-1', 'u-1'), orgKeyWrapBinding('org', 'u-1')]) {
      expect(codeOf(() => seal(identity.publicKey, Buffer.alloc(1), binding))).toBe('WrongBinding');
      expect(codeOf(() => open(identity, Buffer.alloc(SEALED_BLOB_OVERHEAD), binding))).toBe('WrongBinding');
    }
    expect(codeOf(() => open(identity, Buffer.alloc(0), { info: 'coffer/wrap/anything', aad: Buffer.alloc(0) }))).toBe(
      'WrongBinding',
    );
  });

  it('refuse keys that are not X25519 by name', () => {
    const ed = PrivateKey.generate('ed25519') as unknown as PrivateKey<'x25519'>;
    const binding = recordBinding('r1', 'secret', 'k1');
    const blob = seal(identity.publicKey, Buffer.from('x'), binding);
    expect(() => seal(ed.publicKey, Buffer.from('x'), binding)).toThrow(
      expect.objectContaining({ code: 'InvalidKey' }),
    );
    expect(() => open(ed, blob, binding)).toThrow(expect.objectContaining({ code: 'InvalidKey' }));
  });
});
