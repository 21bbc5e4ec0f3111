import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../../testing/error-codes.ts';
import {
  COFFER_SUITE,
  keySchedule,
  openBase,
  type Suite,
  sealBase,
  setupRecipient,
  setupSender,
  XWING_SUITE,
} from '../hpke/hpke.ts';
import { exportPrivateBytes, PrivateKey, PublicKey, xwingDecapsulationKey } from '../keys/keys.ts';
import { decapsulate, deriveSeed, encapsulate, XWING_CIPHERTEXT_LENGTH, XWING_PUBLIC_KEY_LENGTH } from './xwing.ts';

interface DraftVector {
  seed: string;
  sk: string;
  pk: string;
  eseed: string;
  ct: string;
  ss: string;
}
const file = JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', 'xwing-draft-vectors.json'), 'utf8')) as {
  source: string;
  vectors: DraftVector[];
};
const hex = (s: string) => Buffer.from(s, 'hex');
const ab = (b: Uint8Array) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

describe('X-Wing known answers (draft-connolly-cfrg-xwing-kem, Appendix C)', () => {
  it('has the draft vectors, with their source named', () => {
    expect(file.source).toContain('draft-connolly-cfrg-xwing-kem');
    expect(file.vectors).toHaveLength(3);
  });

  describe.each(file.vectors.map((v, i) => [i, v] as const))('vector %i', (_i, v) => {
    it('derives pk from the 32-byte seed', () => {
      const key = PrivateKey.fromBytes('xwing', hex(v.seed));
      expect(v.sk).toBe(v.seed);
      expect(key.publicKey.bytes().toString('hex')).toBe(v.pk);
      expect(key.publicKey.bytes()).toHaveLength(XWING_PUBLIC_KEY_LENGTH);
      expect(exportPrivateBytes(key).toString('hex')).toBe(v.sk);
    });

    it('encapsulates with eseed to ct and ss', () => {
      const { ct, sharedSecret } = encapsulate(hex(v.pk), hex(v.eseed));
      expect(ct.toString('hex')).toBe(v.ct);
      expect(ct).toHaveLength(XWING_CIPHERTEXT_LENGTH);
      expect(sharedSecret.toString('hex')).toBe(v.ss);
    });

    it('decapsulates ct to ss', () => {
      const key = PrivateKey.fromBytes('xwing', hex(v.sk));
      expect(decapsulate(hex(v.ct), xwingDecapsulationKey(key)).toString('hex')).toBe(v.ss);
    });

    it('gives another secret for a ciphertext with one bit flipped (either half)', () => {
      const key = PrivateKey.fromBytes('xwing', hex(v.sk));
      for (const at of [0, 1087, 1100]) {
        const ct = hex(v.ct);
        ct[at] = (ct[at] as number) ^ 1;
        let ss: string | undefined;
        try {
          ss = decapsulate(ct, xwingDecapsulationKey(key)).toString('hex');
        } catch (err) {
          expect(err).toMatchObject({ code: 'DecryptionFailed' });
        }
        expect(ss).not.toBe(v.ss);
      }
    });
  });
});

// HPKE-level known answers: draft-ietf-hpke-pq's vector for 0x647A (see the file's source field).
describe('X-Wing in HPKE: known answers from draft-ietf-hpke-pq', () => {
  const { source, vector: v } = JSON.parse(
    readFileSync(join(import.meta.dirname, '..', 'hpke', 'vectors', 'hpke-pq-xwing-hkdf-sha256.json'), 'utf8'),
  ) as {
    source: string;
    vector: Record<string, string> & { kem_id: number; kdf_id: number; aead_id: number; mode: number };
  };

  it('is the base-mode X-Wing, HKDF-SHA256 entry', () => {
    expect(source).toContain('draft-ietf-hpke-pq');
    expect([v.mode, v.kem_id, v.kdf_id]).toEqual([0, 0x647a, 0x0001]);
  });

  it('derives pkRm from skRm, and encapsulates with ikmE to enc and shared_secret', () => {
    expect(
      PrivateKey.fromBytes('xwing', hex(v.skRm as string))
        .publicKey.bytes()
        .toString('hex'),
    ).toBe(v.pkRm);
    const { ct, sharedSecret } = encapsulate(hex(v.pkRm as string), hex(v.ikmE as string));
    expect(ct.toString('hex')).toBe(v.enc);
    expect(sharedSecret.toString('hex')).toBe(v.shared_secret);
    const recipient = PrivateKey.fromBytes('xwing', hex(v.skRm as string));
    expect(decapsulate(hex(v.enc as string), xwingDecapsulationKey(recipient)).toString('hex')).toBe(v.shared_secret);
  });

  it('runs the key schedule with suite id HPKE ‖ 647a ‖ kdf ‖ aead to the same base nonce and exporter secret', () => {
    const aead = v.aead_id.toString(16).padStart(4, '0');
    expect(v.suite_id).toBe(`${Buffer.from('HPKE').toString('hex')}647a0001${aead}`);
    const suite = { kem: v.kem_id, kdf: v.kdf_id, aead: v.aead_id } as unknown as Suite;
    const schedule = keySchedule(suite, hex(v.shared_secret as string), hex(v.info as string));
    expect(schedule.baseNonce.toString('hex')).toBe(v.base_nonce);
    expect(schedule.exporterSecret.toString('hex')).toBe(v.exporter_secret);
  });
});

describe('X-Wing input checks', () => {
  const key = PrivateKey.generate('xwing');

  it('refuses keys and ciphertexts of the wrong length', () => {
    expect(codeOf(() => PrivateKey.fromBytes('xwing', Buffer.alloc(31)))).toBe('InvalidKey');
    expect(codeOf(() => PublicKey.fromBytes('xwing', Buffer.alloc(1215)))).toBe('InvalidKey');
    expect(codeOf(() => decapsulate(Buffer.alloc(1119), xwingDecapsulationKey(key)))).toBe('Malformed');
  });

  it('refuses an encapsulation key that fails ML-KEM’s modulus check (FIPS 203 §7.2)', () => {
    const pk = key.publicKey.bytes();
    pk.fill(0xff, 0, 2); // the first coefficient becomes 4095 ≥ q
    expect(codeOf(() => PublicKey.fromBytes('xwing', pk))).toBe('InvalidKey');
    expect(codeOf(() => encapsulate(pk))).toBe('InvalidKey');
  });

  it('derives the HPKE key pair seed as SHAKE256(ikm, 32 bytes), like the reference', async () => {
    const ikm = Buffer.alloc(32, 9);
    const theirs = await new XWing().deriveKeyPair(ab(ikm));
    const theirPublic = Buffer.from(await new XWing().serializePublicKey(theirs.publicKey));
    expect(PrivateKey.fromBytes('xwing', deriveSeed(ikm)).publicKey.bytes().equals(theirPublic)).toBe(true);
  });

  it('is unusable once destroyed', () => {
    const doomed = PrivateKey.generate('xwing');
    doomed.destroy();
    expect(codeOf(() => xwingDecapsulationKey(doomed))).toBe('InvalidKey');
    expect(codeOf(() => exportPrivateBytes(doomed))).toBe('InvalidKey');
  });
});

// An independent implementation (mlkem + @hpke/dhkem-x25519 behind @hpke/hybridkem-x-wing) must agree.
describe('cross-check with @hpke/hybridkem-x-wing', () => {
  const reference = new XWing();

  it('decapsulates in the reference what we encapsulate', async () => {
    const key = PrivateKey.generate('xwing');
    const skR = await reference.deserializePrivateKey(ab(exportPrivateBytes(key)));
    const pkR = await reference.deserializePublicKey(ab(key.publicKey.bytes()));
    const { ct, sharedSecret } = encapsulate(key.publicKey.bytes());
    const theirs = await reference.decap({ enc: ab(ct), recipientKey: { privateKey: skR, publicKey: pkR } });
    expect(Buffer.from(theirs).equals(sharedSecret)).toBe(true);
  });

  it('decapsulates what the reference encapsulates', async () => {
    const key = PrivateKey.generate('xwing');
    const pkR = await reference.deserializePublicKey(ab(key.publicKey.bytes()));
    const { enc, sharedSecret } = await reference.encap({ recipientPublicKey: pkR });
    const ours = decapsulate(Buffer.from(enc), xwingDecapsulationKey(key));
    expect(ours.equals(Buffer.from(sharedSecret))).toBe(true);
  });

  it('derives the same public key from the same seed', async () => {
    const seed = Buffer.alloc(32, 3);
    const theirs = await reference.generateKeyPairDerand(seed);
    const theirPublic = Buffer.from(await reference.serializePublicKey(theirs.publicKey));
    expect(PrivateKey.fromBytes('xwing', seed).publicKey.bytes().equals(theirPublic)).toBe(true);
  });
});

describe('HPKE with X-Wing: cross-check with @hpke/core', () => {
  const reference = new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const info = Buffer.from('coffer/record-context/v2');
  const messages = [Buffer.alloc(0), Buffer.from('4111111111111111'), Buffer.alloc(4096, 0x5a)];

  it('opens in @hpke/core a whole context we seal (enc 1120 bytes)', async () => {
    const recipient = PrivateKey.generate('xwing');
    const skR = await reference.kem.deserializePrivateKey(ab(exportPrivateBytes(recipient)));
    const { enc, context } = setupSender(XWING_SUITE, recipient.publicKey, info);
    expect(enc).toHaveLength(1120);
    const sealed = messages.map((pt, i) => context.seal(Buffer.from(`aad-${i}`), pt));
    const theirs = await reference.createRecipientContext({ recipientKey: skR, enc: ab(enc), info: ab(info) });
    for (const [i, ct] of sealed.entries()) {
      const opened = await theirs.open(ab(ct), ab(Buffer.from(`aad-${i}`)));
      expect(Buffer.from(opened).equals(messages[i] as Buffer)).toBe(true);
    }
  });

  it('opens a whole context that @hpke/core seals', async () => {
    const recipient = PrivateKey.generate('xwing');
    const pkR = await reference.kem.deserializePublicKey(ab(recipient.publicKey.bytes()));
    const sender = await reference.createSenderContext({ recipientPublicKey: pkR, info: ab(info) });
    const sealed: Buffer[] = [];
    for (const [i, pt] of messages.entries()) {
      sealed.push(Buffer.from(await sender.seal(ab(pt), ab(Buffer.from(`aad-${i}`)))));
    }
    const context = setupRecipient(XWING_SUITE, Buffer.from(sender.enc), recipient, info);
    for (const [i, ct] of sealed.entries()) {
      expect(context.open(Buffer.from(`aad-${i}`), ct).equals(messages[i] as Buffer)).toBe(true);
    }
  });

  it('single-shot both ways', async () => {
    const recipient = PrivateKey.generate('xwing');
    const skR = await reference.kem.deserializePrivateKey(ab(exportPrivateBytes(recipient)));
    const pkR = await reference.kem.deserializePublicKey(ab(recipient.publicKey.bytes()));
    const aad = Buffer.from('aad');
    const ours = sealBase(XWING_SUITE, recipient.publicKey, info, aad, messages[1] as Buffer);
    const opened = await reference.open(
      { recipientKey: skR, enc: ab(ours.enc), info: ab(info) },
      ab(ours.ciphertext),
      ab(aad),
    );
    expect(Buffer.from(opened).equals(messages[1] as Buffer)).toBe(true);
    const theirs = await reference.seal(
      { recipientPublicKey: pkR, info: ab(info) },
      ab(messages[2] as Buffer),
      ab(aad),
    );
    const back = openBase(XWING_SUITE, Buffer.from(theirs.enc), recipient, info, aad, Buffer.from(theirs.ct));
    expect(back.equals(messages[2] as Buffer)).toBe(true);
  });

  it('keeps the key schedule per suite: an X25519 context with the same info first changes nothing', async () => {
    // key_schedule_context depends on the suite id (KEM included) and is cached by hpke.ts.
    const classical = PrivateKey.generate('x25519');
    setupSender(COFFER_SUITE, classical.publicKey, info).context.destroy();
    const recipient = PrivateKey.generate('xwing');
    const skR = await reference.kem.deserializePrivateKey(ab(exportPrivateBytes(recipient)));
    const { enc, context } = setupSender(XWING_SUITE, recipient.publicKey, info);
    const ct = context.seal(Buffer.from('aad'), Buffer.from('after X25519'));
    const opened = await reference.open(
      { recipientKey: skR, enc: ab(enc), info: ab(info) },
      ab(ct),
      ab(Buffer.from('aad')),
    );
    expect(Buffer.from(opened).toString()).toBe('after X25519');
  });

  it('refuses a key of the other KEM, and an enc of the wrong length', () => {
    const x = PrivateKey.generate('x25519');
    const xw = PrivateKey.generate('xwing');
    expect(codeOf(() => setupSender(XWING_SUITE, x.publicKey, info))).toBe('InvalidKey');
    expect(codeOf(() => setupRecipient(XWING_SUITE, Buffer.alloc(1120), x, info))).toBe('InvalidKey');
    expect(codeOf(() => setupRecipient(XWING_SUITE, Buffer.alloc(32), xw, info))).toBe('Malformed');
  });
});
