import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../../testing/error-codes.ts';
import { recordBinding } from '../bindings.ts';
import { lengthPrefixed, utf8 } from '../bytes.ts';
import { deriveKeyPair } from '../hpke/hpke.ts';
import { exportPrivateBytes, PrivateKey } from '../keys/keys.ts';
import {
  openRecord,
  parseRecordBlob,
  RECORD_CONTEXT_BLOB_OVERHEAD,
  RecordOpeningContext,
  RecordSealingContext,
  recordAadForTests,
} from './record-context.ts';
import { seal } from './sealed-blob.ts';

interface Vector {
  description: string;
  recipientIkm: string;
  dataKeyId: string;
  recordId: string;
  type: string;
  contextEnc: string | null;
  blob: string;
  expect: { plaintext: string } | { error: string };
}

const dir = join(import.meta.dirname, 'context-vectors');
const vectors = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f.replace(/\.json$/, ''), JSON.parse(readFileSync(join(dir, f), 'utf8')) as Vector] as const);

describe('record context (sealed-blob v2) vectors', () => {
  it('are all present', () => {
    expect(vectors.length).toBe(22);
  });

  it.each(vectors)('%s', (_name, v) => {
    const identity = deriveKeyPair(Buffer.from(v.recipientIkm, 'hex'));
    const run = () =>
      openRecord(identity, Buffer.from(v.blob, 'hex'), {
        recordId: v.recordId as string,
        type: v.type,
        dataKeyId: v.dataKeyId,
        contextEnc: v.contextEnc === null ? null : Buffer.from(v.contextEnc, 'hex'),
      });
    if ('plaintext' in v.expect) expect(run().toString('hex')).toBe(v.expect.plaintext);
    else expect(codeOf(run)).toBe(v.expect.error);
  });
});

describe('sealing and opening many records under one context', () => {
  const identity = PrivateKey.generate('x25519');
  const ids = Array.from({ length: 300 }, (_, i) => `0193a4b0-7c1e-7000-8000-${String(i).padStart(12, '0')}`);

  it('opens every record in any order, through one context or one at a time', () => {
    const sender = RecordSealingContext.create(identity.publicKey, 'dk-1');
    const blobs = ids.map((id, i) => sender.seal(id, 'secret', Buffer.from(`value ${i}`)));
    expect(sender.sealedCount).toBe(300);
    const receiver = RecordOpeningContext.open(identity, sender.contextId, 'dk-1', sender.enc);
    for (const i of [299, 0, 150, 7, 7, 298]) {
      expect(receiver.open(blobs[i] as Buffer, ids[i] as string, 'secret').toString()).toBe(`value ${i}`);
      const single = openRecord(identity, blobs[i] as Buffer, {
        recordId: ids[i] as string,
        type: 'secret',
        dataKeyId: 'dk-1',
        contextEnc: sender.enc,
      });
      expect(single.toString()).toBe(`value ${i}`);
    }
    expect(parseRecordBlob(blobs[299] as Buffer)).toMatchObject({
      version: 2,
      contextId: sender.contextId,
      sequence: 299,
    });
    expect((blobs[0] as Buffer).length).toBe('value 0'.length + RECORD_CONTEXT_BLOB_OVERHEAD);
  });

  it('refuses a record of another context with ContextMismatch, before any decryption', () => {
    const a = RecordSealingContext.create(identity.publicKey, 'dk-1');
    const b = RecordSealingContext.create(identity.publicKey, 'dk-1');
    const blob = b.seal(ids[0] as string, 'pan', Buffer.from('4111111111111111'));
    const receiver = RecordOpeningContext.open(identity, a.contextId, 'dk-1', a.enc);
    expect(codeOf(() => receiver.open(blob, ids[0] as string, 'pan'))).toBe('ContextMismatch');
  });

  it('builds each record AAD exactly as recordBinding does, non-ASCII ids included', () => {
    for (const [id, type, key] of [
      [ids[0] as string, 'pan', 'dk-1'],
      ['', '', ''],
      ['ïd-é', 'sécret', 'clé-🔑'],
    ] as const) {
      expect(recordAadForTests(id, type, key).equals(recordBinding(id, type, key).aad)).toBe(true);
    }
    expect(codeOf(() => recordAadForTests('x'.repeat(0x10000), 'pan', 'dk-1'))).toBe('Malformed');
  });

  it('refuses a record whose header was changed, each with the error its parse names', () => {
    const sender = RecordSealingContext.create(identity.publicKey, 'dk-1');
    const blob = sender.seal(ids[0] as string, 'pan', Buffer.from('4111111111111111'));
    const receiver = RecordOpeningContext.open(identity, sender.contextId, 'dk-1', sender.enc);
    const changed = (at: number) => {
      const b = Buffer.from(blob);
      b.writeUInt8(b.readUInt8(at) ^ 1, at);
      return b;
    };
    expect(codeOf(() => receiver.open(changed(10), ids[0] as string, 'pan'))).toBe('ContextMismatch');
    expect(codeOf(() => receiver.open(changed(2), ids[0] as string, 'pan'))).toBe(
      codeOf(() => parseRecordBlob(changed(2))),
    );
    expect(codeOf(() => receiver.open(blob.subarray(0, 30), ids[0] as string, 'pan'))).toBe('Truncated');
    // The sequence (bytes 23–26) makes the nonce: a changed one does not open.
    expect(codeOf(() => receiver.open(changed(26), ids[0] as string, 'pan'))).toBe('DecryptionFailed');
    expect(codeOf(() => receiver.open(blob, ids[1] as string, 'pan'))).toBe('DecryptionFailed');
    expect(receiver.open(blob, ids[0] as string, 'pan').toString()).toBe('4111111111111111');
  });

  it('stops at its bound with ContextExhausted', () => {
    const sender = RecordSealingContext.create(identity.publicKey, 'dk-1', 2);
    sender.seal(ids[0] as string, 'pan', Buffer.from('1'));
    sender.seal(ids[1] as string, 'pan', Buffer.from('2'));
    expect(sender.exhausted).toBe(true);
    expect(codeOf(() => sender.seal(ids[2] as string, 'pan', Buffer.from('3')))).toBe('ContextExhausted');
  });

  it('gives every context a fresh id and encapsulated key', () => {
    const a = RecordSealingContext.create(identity.publicKey, 'dk-1');
    const b = RecordSealingContext.create(identity.publicKey, 'dk-1');
    expect(a.contextId).not.toBe(b.contextId);
    expect(a.enc.equals(b.enc)).toBe(false);
  });

  it('still opens version-1 records through the same call', () => {
    const blob = seal(identity.publicKey, Buffer.from('078-05-1120'), recordBinding(ids[0] as string, 'ssn', 'dk-1'));
    const opened = openRecord(identity, blob, { recordId: ids[0] as string, type: 'ssn', dataKeyId: 'dk-1' });
    expect(opened.toString()).toBe('078-05-1120');
    expect(parseRecordBlob(blob).version).toBe(1);
  });
});

// @hpke/core implements RFC 9180 independently (WebCrypto): a multi-message context set up by one
// side must give the same sequence of ciphertexts on the other.
describe('cross-check with @hpke/core over a multi-message context', () => {
  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const info = (contextId: string, dataKeyId: string) =>
    lengthPrefixed('coffer/record-context/v2', Buffer.from(contextId.replaceAll('-', ''), 'hex'), utf8(dataKeyId));
  const ab = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

  it('opens in @hpke/core, in sequence, what a context seals', async () => {
    const identity = PrivateKey.generate('x25519');
    const sender = RecordSealingContext.create(identity.publicKey, 'dk-x');
    const ids = ['a', 'b', 'c', 'd'].map((s) => `0193a4b0-7c1e-7000-8000-00000000000${s}`);
    const blobs = ids.map((id, i) => sender.seal(id, 'secret', Buffer.from(`v${i}`)));
    const recipient = await suite.createRecipientContext({
      recipientKey: await suite.kem.deserializePrivateKey(ab(exportPrivateBytes(identity))),
      enc: ab(sender.enc),
      info: ab(info(sender.contextId, 'dk-x')),
    });
    for (const [i, blob] of blobs.entries()) {
      const parsed = parseRecordBlob(blob);
      if (parsed.version !== 2) throw new Error('expected version 2');
      const aad = recordBinding(ids[i] as string, 'secret', 'dk-x').aad;
      const pt = await recipient.open(ab(parsed.ciphertext), ab(aad));
      expect(Buffer.from(pt).toString()).toBe(`v${i}`);
    }
  });

  it('opens at any sequence what @hpke/core seals in sequence', async () => {
    const identity = PrivateKey.generate('x25519');
    const contextId = '11111111-2222-4333-8444-555555555555';
    const recipientPublicKey = await suite.kem.deserializePublicKey(ab(identity.publicKey.bytes()));
    const sender = await suite.createSenderContext({ recipientPublicKey, info: ab(info(contextId, 'dk-y')) });
    const ciphertexts: Buffer[] = [];
    for (let i = 0; i < 5; i++) {
      const aad = recordBinding(`rec-${i}`, 'pan', 'dk-y').aad;
      ciphertexts.push(Buffer.from(await sender.seal(ab(Buffer.from(`pan-${i}`)), ab(aad))));
    }
    const receiver = RecordOpeningContext.open(identity, contextId, 'dk-y', Buffer.from(sender.enc));
    for (const i of [4, 2, 0, 3, 1]) {
      const prefix = Buffer.alloc(27);
      prefix[0] = 2;
      prefix.writeUInt16BE(0x20, 1);
      prefix.writeUInt16BE(0x1, 3);
      prefix.writeUInt16BE(0x2, 5);
      Buffer.from(contextId.replaceAll('-', ''), 'hex').copy(prefix, 7);
      prefix.writeUInt32BE(i, 23);
      const blob = Buffer.concat([prefix, ciphertexts[i] as Buffer]);
      expect(receiver.open(blob, `rec-${i}`, 'pan').toString()).toBe(`pan-${i}`);
    }
  });
});
