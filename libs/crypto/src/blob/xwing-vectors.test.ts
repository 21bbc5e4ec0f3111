import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../../testing/error-codes.ts';
import { dataKeyWrapBinding, recordBinding } from '../bindings.ts';
import { lengthPrefixed, utf8 } from '../bytes.ts';
import { deriveKeyPair } from '../hpke/hpke.ts';
import { exportPrivateBytes, type KeyKind, PrivateKey } from '../keys/keys.ts';
import { symmetricKeyFromBytes } from '../keys/symmetric-key.ts';
import { unwrapPrivateKey, unwrapWithSymmetricKey, wrapPrivateKey, wrapWithSymmetricKey } from '../wrap/wrap.ts';
import { openRecord, parseRecordBlob, RecordOpeningContext, RecordSealingContext } from './record-context.ts';
import { open, SEALED_BLOB_OVERHEAD_XWING, seal } from './sealed-blob.ts';

interface Vector {
  description: string;
  operation: 'openRecord' | 'unwrapPrivateKey';
  identity: { kind: 'xwing' | 'x25519'; secret: string };
  dataKeyId: string;
  recordId?: string;
  type?: string;
  contextEnc?: string | null;
  kind?: KeyKind;
  recipientId?: string;
  blob: string;
  expect: { plaintext: string } | { publicKey: string } | { error: string };
}

const dir = join(import.meta.dirname, 'xwing-vectors');
const vectors = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(dir, f), 'utf8')) as Vector] as const);
const hex = (s: string) => Buffer.from(s, 'hex');
const ab = (b: Uint8Array) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

function identityOf(v: Vector) {
  const secret = hex(v.identity.secret);
  return v.identity.kind === 'xwing' ? PrivateKey.fromBytes('xwing', secret) : deriveKeyPair(secret);
}

describe('X-Wing blob vectors (record v1 and v2, wrapped keys)', () => {
  it('are all present', () => {
    expect(vectors.length).toBe(33);
  });

  it.each(vectors)('%s', (_name, v) => {
    const identity = identityOf(v);
    const run = (): Buffer =>
      v.operation === 'openRecord'
        ? openRecord(identity, hex(v.blob), {
            recordId: v.recordId as string,
            type: v.type as string,
            dataKeyId: v.dataKeyId,
            contextEnc: v.contextEnc ? hex(v.contextEnc) : null,
          })
        : unwrapPrivateKey(
            v.kind as KeyKind,
            identity,
            hex(v.blob),
            dataKeyWrapBinding(v.dataKeyId, v.recipientId as string),
          ).publicKey.bytes();
    if ('error' in v.expect) expect(codeOf(run)).toBe(v.expect.error);
    else expect(run().toString('hex')).toBe('plaintext' in v.expect ? v.expect.plaintext : v.expect.publicKey);
  });
});

describe('record contexts with an xwing data key', () => {
  const dataKey = PrivateKey.generate('xwing');

  it('seal many records under one X-Wing context and open them in any order', () => {
    const sender = RecordSealingContext.create(dataKey.publicKey, 'dk-pq');
    expect(sender.enc).toHaveLength(1120);
    expect(sender.suite.kem).toBe(0x647a);
    const ids = Array.from({ length: 50 }, (_, i) => `0193a4b0-7c1e-7000-8000-${String(i).padStart(12, '0')}`);
    const blobs = ids.map((id) => sender.seal(id, 'pan', utf8(`value-${id}`)));
    expect(blobs[0]?.readUInt16BE(1)).toBe(0x647a);
    expect(parseRecordBlob(blobs[0] as Buffer, ['x25519', 'xwing'])).toMatchObject({
      version: 2,
      suite: { kem: 0x647a },
    });
    // A caller that has not said it takes X-Wing (every service today) refuses the blob by suite.
    expect(codeOf(() => parseRecordBlob(blobs[0] as Buffer))).toBe('UnsupportedSuite');
    const single = seal(dataKey.publicKey, utf8('v'), recordBinding('r', 'pan', 'dk-pq'));
    expect(codeOf(() => parseRecordBlob(single, ['x25519']))).toBe('UnsupportedSuite');
    expect(parseRecordBlob(single, ['xwing'])).toMatchObject({ version: 1, suite: { kem: 0x647a } });
    const opener = RecordOpeningContext.open(dataKey, sender.contextId, 'dk-pq', sender.enc);
    for (const i of [49, 0, 17]) {
      expect(opener.open(blobs[i] as Buffer, ids[i] as string, 'pan').toString()).toBe(`value-${ids[i]}`);
    }
    expect(
      openRecord(dataKey, blobs[3] as Buffer, {
        recordId: ids[3] as string,
        type: 'pan',
        dataKeyId: 'dk-pq',
        contextEnc: sender.enc,
      }).toString(),
    ).toBe(`value-${ids[3]}`);
    sender.destroy();
    opener.destroy();
  });

  it('refuses, under an X-Wing opening context, a record that names the X25519 suite', () => {
    const sender = RecordSealingContext.create(dataKey.publicKey, 'dk-pq');
    const blob = sender.seal('r1', 'pan', utf8('x'));
    blob.writeUInt16BE(0x0020, 1);
    const opener = RecordOpeningContext.open(dataKey, sender.contextId, 'dk-pq', sender.enc);
    expect(codeOf(() => opener.open(blob, 'r1', 'pan'))).toBe('ContextMismatch');
  });

  it('uses the unchanged context info: @hpke/core with X-Wing opens what a context sealed', async () => {
    const sender = RecordSealingContext.create(dataKey.publicKey, 'dk-pq');
    const blobs = [sender.seal('r0', 'pan', utf8('4111')), sender.seal('r1', 'ssn', utf8('078'))];
    const info = lengthPrefixed('coffer/record-context/v2', hex(sender.contextId.replaceAll('-', '')), utf8('dk-pq'));
    const reference = new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    const skR = await reference.kem.deserializePrivateKey(ab(exportPrivateBytes(dataKey)));
    const ctx = await reference.createRecipientContext({ recipientKey: skR, enc: ab(sender.enc), info: ab(info) });
    const first = await ctx.open(ab((blobs[0] as Buffer).subarray(27)), ab(recordBinding('r0', 'pan', 'dk-pq').aad));
    const second = await ctx.open(ab((blobs[1] as Buffer).subarray(27)), ab(recordBinding('r1', 'ssn', 'dk-pq').aad));
    expect([Buffer.from(first).toString(), Buffer.from(second).toString()]).toEqual(['4111', '078']);
  });
});

describe('xwing keys: seal, wrap, redaction', () => {
  const user = PrivateKey.generate('xwing');

  it('seals single-shot with X-Wing: 1143 bytes of overhead', () => {
    const binding = recordBinding('r', 'pan', 'dk');
    const blob = seal(user.publicKey, utf8('4111111111111111'), binding);
    expect(blob.length - 16).toBe(SEALED_BLOB_OVERHEAD_XWING);
    expect(SEALED_BLOB_OVERHEAD_XWING).toBe(7 + 1120 + 16);
    expect(open(user, blob, binding).toString()).toBe('4111111111111111');
  });

  it('wraps an xwing key to an x25519 recipient, under a symmetric key, and back', () => {
    const dataKey = PrivateKey.generate('xwing');
    const admin = PrivateKey.generate('x25519');
    const binding = dataKeyWrapBinding('dk', 'admin');
    const back = unwrapPrivateKey('xwing', admin, wrapPrivateKey(dataKey, admin.publicKey, binding), binding);
    expect(back.publicKey.equals(dataKey.publicKey)).toBe(true);
    const kek = symmetricKeyFromBytes(Buffer.alloc(32, 5));
    const wrapped = wrapWithSymmetricKey(dataKey, kek, utf8('aad'));
    expect(unwrapWithSymmetricKey('xwing', kek, wrapped, utf8('aad')).publicKey.equals(dataKey.publicKey)).toBe(true);
  });

  it('never prints its seed: JSON, inspect, template strings show a fingerprint label', () => {
    const seedHex = exportPrivateBytes(user).toString('hex');
    for (const shown of [JSON.stringify({ user }), inspect(user), `${user}`, String(user)]) {
      expect(shown).toContain('[xwing private key ');
      expect(shown).not.toContain(seedHex);
    }
    expect(user.publicKey.fingerprint()).toMatch(/^(\d{5} ){5}\d{5}$/);
    expect(user.publicKey.toBase64url()).toHaveLength(1622);
  });

  it('names the suite in the fingerprint: SHA-256 over coffer/fingerprint/v1/xwing/ and all 1216 bytes', () => {
    const digest = createHash('sha256').update('coffer/fingerprint/v1/xwing/').update(user.publicKey.bytes()).digest();
    const groups = [0, 1, 2, 3, 4, 5].map((i) => (digest.readUIntBE(i * 5, 5) % 100000).toString().padStart(5, '0'));
    expect(user.publicKey.fingerprint()).toBe(groups.join(' '));
  });
});
