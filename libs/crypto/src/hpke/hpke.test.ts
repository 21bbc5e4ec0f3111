import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../../testing/error-codes.ts';
import { exportPrivateBytes, PrivateKey, PublicKey } from '../keys/keys.ts';
import {
  AEAD_AES_128_GCM,
  AEAD_AES_256_GCM,
  COFFER_SUITE,
  deriveKeyPair,
  KDF_HKDF_SHA256,
  KEM_X25519_HKDF_SHA256,
  keySchedule,
  openBase,
  type Suite,
  sealBase,
  setupRecipient,
  setupSender,
} from './hpke.ts';

interface Vector {
  source: string;
  mode: number;
  kem_id: number;
  kdf_id: number;
  aead_id: number;
  info: string;
  ikmE: string;
  pkEm: string;
  skEm: string;
  ikmR: string;
  pkRm: string;
  skRm: string;
  enc: string;
  shared_secret: string;
  key_schedule_context: string;
  secret: string;
  key: string;
  base_nonce: string;
  exporter_secret: string;
  encryptions: { seq: number; pt: string; aad: string; nonce: string; ct: string }[];
}

const hex = (s: string) => Buffer.from(s, 'hex');
const load = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', name), 'utf8')) as Vector;

// RFC 9180 A.1.1 (AES-128-GCM) and the CFRG set's AES-256-GCM entry for the same KEM and KDF.
describe.each([
  ['RFC 9180 A.1.1', 'rfc9180-a1-1.json', 257],
  ['CFRG AES-256-GCM', 'cfrg-x25519-sha256-aes256gcm.json', 3],
])('known answers: %s', (_title, file, encryptions) => {
  const v = load(file);
  const suite = { kem: v.kem_id, kdf: v.kdf_id, aead: v.aead_id } as Suite;

  it('is the suite it claims, in base mode', () => {
    expect([v.mode, v.kem_id, v.kdf_id]).toEqual([0, KEM_X25519_HKDF_SHA256, KDF_HKDF_SHA256]);
    expect([AEAD_AES_128_GCM, AEAD_AES_256_GCM]).toContain(v.aead_id);
    expect(v.encryptions).toHaveLength(encryptions);
  });

  it('derives both key pairs from ikmE and ikmR', () => {
    const e = deriveKeyPair(hex(v.ikmE));
    const r = deriveKeyPair(hex(v.ikmR));
    expect(e.publicKey.bytes().toString('hex')).toBe(v.pkEm);
    expect(exportPrivateBytes(e).toString('hex')).toBe(v.skEm);
    expect(r.publicKey.bytes().toString('hex')).toBe(v.pkRm);
    expect(exportPrivateBytes(r).toString('hex')).toBe(v.skRm);
  });

  it('runs the key schedule to the same secrets', () => {
    const schedule = keySchedule(suite, hex(v.shared_secret), hex(v.info));
    expect(schedule.keyScheduleContext.toString('hex')).toBe(v.key_schedule_context);
    expect(schedule.secret.toString('hex')).toBe(v.secret);
    expect(schedule.key.toString('hex')).toBe(v.key);
    expect(schedule.baseNonce.toString('hex')).toBe(v.base_nonce);
    expect(schedule.exporterSecret.toString('hex')).toBe(v.exporter_secret);
  });

  it('encapsulates to enc and seals every message of the sequence to its ciphertext', () => {
    const recipient = PublicKey.fromBytes('x25519', hex(v.pkRm));
    const { enc, context } = setupSender(suite, recipient, hex(v.info), deriveKeyPair(hex(v.ikmE)));
    expect(enc.toString('hex')).toBe(v.enc);
    v.encryptions.forEach((m, i) => {
      expect(m.seq).toBe(i);
      expect(context.seal(hex(m.aad), hex(m.pt)).toString('hex')).toBe(m.ct);
    });
  });

  it('opens every ciphertext of the sequence', () => {
    const context = setupRecipient(suite, hex(v.enc), PrivateKey.fromBytes('x25519', hex(v.skRm)), hex(v.info));
    for (const m of v.encryptions) expect(context.open(hex(m.aad), hex(m.ct)).toString('hex')).toBe(m.pt);
  });

  it('does not advance the sequence on a failed open', () => {
    const context = setupRecipient(suite, hex(v.enc), PrivateKey.fromBytes('x25519', hex(v.skRm)), hex(v.info));
    const [first] = v.encryptions;
    if (!first) throw new Error('no encryptions in vector');
    expect(() => context.open(hex('00'), hex(first.ct))).toThrow(expect.objectContaining({ code: 'DecryptionFailed' }));
    expect(context.open(hex(first.aad), hex(first.ct)).toString('hex')).toBe(first.pt);
  });
});

// Two independent implementations must agree: ours on node:crypto, and @hpke/core with the
// pure-JS X25519 KEM of @hpke/dhkem-x25519.
describe('cross-check with @hpke/core (AES-256-GCM)', () => {
  const reference = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const info = Buffer.from('coffer/record/v1');
  const messages = [Buffer.alloc(0), Buffer.from('4111111111111111'), Buffer.alloc(4096, 0x5a)];
  const ab = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

  it('opens in @hpke/core what we seal', async () => {
    const recipient = PrivateKey.generate('x25519');
    const skR = await reference.kem.deserializePrivateKey(ab(exportPrivateBytes(recipient)));
    for (const [i, pt] of messages.entries()) {
      const aad = Buffer.from(`aad-${i}`);
      const { enc, ciphertext } = sealBase(COFFER_SUITE, recipient.publicKey, info, aad, pt);
      const opened = await reference.open({ recipientKey: skR, enc: ab(enc), info: ab(info) }, ab(ciphertext), ab(aad));
      expect(Buffer.from(opened).equals(pt)).toBe(true);
    }
  });

  it('opens what @hpke/core seals', async () => {
    const recipient = PrivateKey.generate('x25519');
    const pkR = await reference.kem.deserializePublicKey(ab(recipient.publicKey.bytes()));
    for (const [i, pt] of messages.entries()) {
      const aad = Buffer.from(`aad-${i}`);
      const sealed = await reference.seal({ recipientPublicKey: pkR, info: ab(info) }, ab(pt), ab(aad));
      const opened = openBase(COFFER_SUITE, Buffer.from(sealed.enc), recipient, info, aad, Buffer.from(sealed.ct));
      expect(opened.equals(pt)).toBe(true);
    }
  });

  it('derives the same key pair from the same ikm', async () => {
    const ikm = Buffer.alloc(32, 7);
    const theirs = await reference.kem.deriveKeyPair(ab(ikm));
    const theirPublic = Buffer.from(await reference.kem.serializePublicKey(theirs.publicKey));
    expect(deriveKeyPair(ikm).publicKey.bytes().equals(theirPublic)).toBe(true);
  });
});

describe('secrets in memory', () => {
  const suite = COFFER_SUITE;
  const info = Buffer.from('coffer/record/v1');
  // A Buffer that is a slice of Node's shared pool cannot be wiped for good: copies stay behind.
  const ownsItsMemory = (b: Buffer) => b.byteOffset === 0 && b.buffer.byteLength === b.length;

  it('derives every secret of the key schedule into memory of its own', () => {
    // key_schedule_context is left out: it is computed from the suite and the (public) info alone.
    const { secret, key, baseNonce, exporterSecret } = keySchedule(suite, Buffer.alloc(32, 1), info);
    for (const [name, b] of Object.entries({ secret, key, baseNonce, exporterSecret })) {
      expect(ownsItsMemory(b), name).toBe(true);
    }
  });

  it('hands out a copy of the cached key_schedule_context, so callers cannot change the cache', () => {
    const first = keySchedule(suite, Buffer.alloc(32, 1), info);
    const expected = Buffer.from(first.keyScheduleContext);
    first.keyScheduleContext.fill(0xee);
    const second = keySchedule(suite, Buffer.alloc(32, 2), info);
    expect(second.keyScheduleContext).not.toBe(first.keyScheduleContext);
    expect(second.keyScheduleContext.equals(expected)).toBe(true);
  });
});

describe('key kinds', () => {
  const ed = PrivateKey.generate('ed25519') as unknown as PrivateKey<'x25519'>;
  const info = Buffer.from('coffer/record/v1');

  it('refuse an Ed25519 key where X25519 is needed, before any DH', () => {
    expect(codeOf(() => setupSender(COFFER_SUITE, ed.publicKey, info))).toBe('InvalidKey');
    expect(codeOf(() => sealBase(COFFER_SUITE, ed.publicKey, info, Buffer.alloc(0), Buffer.alloc(1)))).toBe(
      'InvalidKey',
    );
    const enc = PrivateKey.generate('x25519').publicKey.bytes();
    expect(codeOf(() => setupRecipient(COFFER_SUITE, enc, ed, info))).toBe('InvalidKey');
  });
});
