/**
 * Writes the sealed-blob vector files in ./vectors: one JSON file per case with its expected
 * outcome. Run with `pnpm tsx libs/crypto/src/blob/generate-vectors.ts` only when the format
 * changes; the committed files are the reference the table-driven test reads. Seals draw fresh
 * ephemeral keys, so a full run rewrites every blob: to rewrite some cases only, name them
 * (`… generate-vectors.ts low-order-enc`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordBinding } from '../bindings.ts';
import { utf8, wipe } from '../bytes.ts';
import { COFFER_SUITE, Context, deriveKeyPair, kemSharedSecret, keySchedule } from '../hpke/hpke.ts';
import { seal } from './sealed-blob.ts';

const dir = join(import.meta.dirname, 'vectors');
const recipients = { alice: Buffer.alloc(32, 0xa1), bob: Buffer.alloc(32, 0xb0) };
const alice = deriveKeyPair(recipients.alice);
const binding = recordBinding('0193a4b0-7c1e-7000-8000-000000000001', 'pan', 'dk-2026-q4');
const plaintext = Buffer.from('4111111111111111');
const good = seal(alice.publicKey, plaintext, binding);

const only = new Set(process.argv.slice(2));
const written = new Set<string>();

type Expect = { plaintext: string } | { error: string };
function write(
  name: string,
  description: string,
  blob: Buffer,
  expect: Expect,
  over: Partial<{ recipient: string; info: string; aad: Buffer }> = {},
) {
  if (only.size > 0 && !only.has(name)) return;
  written.add(name);
  const file = {
    description,
    recipientIkm: (over.recipient === 'bob' ? recipients.bob : recipients.alice).toString('hex'),
    info: over.info ?? binding.info,
    aad: (over.aad ?? binding.aad).toString('hex'),
    blob: blob.toString('hex'),
    expect,
  };
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(file, null, 2)}\n`);
}

function flip(offset: number, bit = 0): Buffer {
  const copy = Buffer.from(good);
  copy[offset] = (copy[offset] as number) ^ (1 << bit);
  return copy;
}
function withHeader(patch: (b: Buffer) => void): Buffer {
  const copy = Buffer.from(good);
  patch(copy);
  return copy;
}
const decryptionFailed = { error: 'DecryptionFailed' };

/**
 * The plaintext sealed with enc = the all-zero point, as a sender would if X25519 were allowed to
 * return 32 zero bytes: shared_secret = ExtractAndExpand(zeros, enc ‖ pkR), then the key schedule.
 * The ciphertext authenticates under that secret, so only the all-zero DH check (RFC 9180 §7.1.4)
 * stands between it and the plaintext. Deterministic: rerunning it writes the same file.
 */
function sealedToZeroPoint(): Buffer {
  const enc = Buffer.alloc(32);
  const shared = kemSharedSecret(Buffer.alloc(32), enc, alice.publicKey);
  const context = new Context(keySchedule(COFFER_SUITE, shared, utf8(binding.info)));
  wipe(shared);
  const ciphertext = context.seal(binding.aad, plaintext);
  context.destroy();
  // The header is the same in every version-1 blob.
  return Buffer.concat([good.subarray(0, 7), enc, ciphertext]);
}

write('good', 'a PAN sealed to alice with its record binding', good, { plaintext: plaintext.toString('hex') });
write('good-empty', 'an empty plaintext is still authenticated', seal(alice.publicKey, Buffer.alloc(0), binding), {
  plaintext: '',
});
write('truncated-empty', 'zero bytes', Buffer.alloc(0), { error: 'Truncated' });
write('truncated-header', 'version byte and part of the suite ids', good.subarray(0, 4), { error: 'Truncated' });
write('truncated-enc', 'header and half an encapsulated key', good.subarray(0, 7 + 16), { error: 'Truncated' });
write('truncated-tag', 'header, enc and 15 of the 16 tag bytes', good.subarray(0, 7 + 32 + 15), { error: 'Truncated' });
write(
  'truncated-last-byte',
  'the last byte removed: long enough to parse, fails authentication',
  good.subarray(0, -1),
  decryptionFailed,
);
write('trailing-byte', 'one byte appended', Buffer.concat([good, Buffer.of(0)]), decryptionFailed);
write(
  'version-0',
  'format version 0',
  withHeader((b) => {
    b[0] = 0;
  }),
  { error: 'UnsupportedVersion' },
);
write(
  'version-2',
  'format version 2 (from the future)',
  withHeader((b) => {
    b[0] = 2;
  }),
  { error: 'UnsupportedVersion' },
);
write(
  'suite-kem',
  'KEM id 0x0021 (X448)',
  withHeader((b) => b.writeUInt16BE(0x0021, 1)),
  { error: 'UnsupportedSuite' },
);
write(
  'suite-kdf',
  'KDF id 0x0002 (HKDF-SHA384)',
  withHeader((b) => b.writeUInt16BE(0x0002, 3)),
  { error: 'UnsupportedSuite' },
);
write(
  'suite-aead',
  'AEAD id 0x0001 (AES-128-GCM)',
  withHeader((b) => b.writeUInt16BE(0x0001, 5)),
  { error: 'UnsupportedSuite' },
);
write('flip-enc', 'lowest bit of the first byte of enc flipped', flip(7), decryptionFailed);
write(
  'flip-enc-high-bit',
  'top bit of enc flipped: X25519 ignores it, the KEM context does not',
  flip(7 + 31, 7),
  decryptionFailed,
);
write(
  'low-order-enc',
  'enc is the all-zero point: DH output would be zero. The ciphertext is valid for the shared secret ' +
    'an all-zero DH output gives, so only the all-zero DH check refuses it.',
  sealedToZeroPoint(),
  decryptionFailed,
);
write('flip-ciphertext', 'first ciphertext bit flipped', flip(39), decryptionFailed);
write('flip-tag', 'last tag bit flipped', flip(good.length - 1, 7), decryptionFailed);
write('wrong-aad', 'opened with another record id in the AAD', good, decryptionFailed, {
  aad: recordBinding('0193a4b0-7c1e-7000-8000-000000000002', 'pan', 'dk-2026-q4').aad,
});
write('wrong-type-aad', 'opened as an ssn instead of a pan', good, decryptionFailed, {
  aad: recordBinding('0193a4b0-7c1e-7000-8000-000000000001', 'ssn', 'dk-2026-q4').aad,
});
write('wrong-info', 'opened with the data-key wrapping info', good, decryptionFailed, {
  info: 'coffer/wrap/data-key/v1',
});
write('wrong-recipient', 'opened by bob', good, decryptionFailed, { recipient: 'bob' });

for (const name of only) if (!written.has(name)) throw new Error(`no vector case named ${name}`);
