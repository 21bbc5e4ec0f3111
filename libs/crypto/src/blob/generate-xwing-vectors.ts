/**
 * Writes the X-Wing vector files in ./xwing-vectors: record blobs of both versions (v1 single-shot,
 * v2 under a context) and wrapped keys sealed with X-Wing, one JSON file per case with its expected
 * outcome. Run with `pnpm tsx libs/crypto/src/blob/generate-xwing-vectors.ts` only when a format
 * changes; seals draw fresh randomness, so a run rewrites every file. The committed files are the
 * reference xwing-vectors.test.ts reads.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataKeyWrapBinding, recordBinding } from '../bindings.ts';
import { deriveKeyPair } from '../hpke/hpke.ts';
import { PrivateKey } from '../keys/keys.ts';
import { wrapPrivateKey } from '../wrap/wrap.ts';
import { RecordSealingContext } from './record-context.ts';
import { seal } from './sealed-blob.ts';

const dir = join(import.meta.dirname, 'xwing-vectors');
// xwing identities are the draft's 32-byte seeds; the x25519 one is derived as in the other vectors.
const identities = {
  alice: { kind: 'xwing', secret: Buffer.alloc(32, 0xa1) },
  bob: { kind: 'xwing', secret: Buffer.alloc(32, 0xb0) },
  carol: { kind: 'x25519', secret: Buffer.alloc(32, 0xc0) },
} as const;
const alice = PrivateKey.fromBytes('xwing', identities.alice.secret);
const carol = deriveKeyPair(identities.carol.secret);
const dataKeyId = 'dk-2027-q1';
const ids = ['0193a4b0-7c1e-7000-8000-000000000001', '0193a4b0-7c1e-7000-8000-000000000002'] as const;
const pan = Buffer.from('4111111111111111');
const ssn = Buffer.from('078-05-1120');

const context = RecordSealingContext.create(alice.publicKey, dataKeyId);
const first = context.seal(ids[0], 'pan', pan);
const second = context.seal(ids[1], 'ssn', ssn);
const other = RecordSealingContext.create(alice.publicKey, dataKeyId);
const classical = RecordSealingContext.create(carol.publicKey, dataKeyId);
const classicalRecord = classical.seal(ids[0], 'pan', pan);
const single = seal(alice.publicKey, pan, recordBinding(ids[0], 'pan', dataKeyId));
const singleEmpty = seal(alice.publicKey, Buffer.alloc(0), recordBinding(ids[0], 'pan', dataKeyId));

type Expect = { plaintext: string } | { publicKey: string } | { error: string };
type Who = keyof typeof identities;
interface RecordCase {
  blob: Buffer;
  recordId?: string;
  type?: string;
  dataKeyId?: string;
  contextEnc?: Buffer | null;
  identity?: Who;
}
function file(name: string, body: object) {
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(body, null, 2)}\n`);
}
function identity(who: Who) {
  return { kind: identities[who].kind, secret: identities[who].secret.toString('hex') };
}
function record(name: string, description: string, c: RecordCase, expect: Expect) {
  file(name, {
    description,
    operation: 'openRecord',
    identity: identity(c.identity ?? 'alice'),
    dataKeyId: c.dataKeyId ?? dataKeyId,
    recordId: c.recordId ?? ids[0],
    type: c.type ?? 'pan',
    contextEnc: c.contextEnc === null ? null : (c.contextEnc ?? context.enc).toString('hex'),
    blob: c.blob.toString('hex'),
    expect,
  });
}
const edit = (blob: Buffer, patch: (b: Buffer) => void) => {
  const copy = Buffer.from(blob);
  patch(copy);
  return copy;
};
const flip = (at: number) => (b: Buffer) => {
  const i = at < 0 ? b.length + at : at;
  b[i] = (b[i] as number) ^ 1;
};
const failed = { error: 'DecryptionFailed' };
const opens = (b: Buffer) => ({ plaintext: b.toString('hex') });

// Version 2: records under an X-Wing context (enc 1120 bytes, stored once).
record('ctx-good-seq-0', 'first record of an X-Wing context', { blob: first }, opens(pan));
record('ctx-good-seq-1', 'second record', { blob: second, recordId: ids[1], type: 'ssn' }, opens(ssn));
record('ctx-truncated-tag', 'prefix and 15 tag bytes', { blob: first.subarray(0, 27 + 15) }, { error: 'Truncated' });
record('ctx-flip-ciphertext', 'first ciphertext bit flipped', { blob: edit(first, flip(27)) }, failed);
record('ctx-flip-tag', 'last tag bit flipped', { blob: edit(first, flip(-1)) }, failed);
record('ctx-wrong-record-id', 'opened as another record', { blob: first, recordId: ids[1] }, failed);
record('ctx-wrong-recipient', 'opened by another xwing key', { blob: first, identity: 'bob' }, failed);
record('ctx-wrong-context-enc', "another context's enc", { blob: first, contextEnc: other.enc }, failed);
record(
  'ctx-flip-enc-mlkem',
  'a bit of the ML-KEM ciphertext in the context enc flipped: implicit rejection, another secret',
  { blob: first, contextEnc: edit(context.enc, flip(0)) },
  failed,
);
record(
  'ctx-flip-enc-x25519',
  'a bit of the X25519 half of the context enc flipped',
  { blob: first, contextEnc: edit(context.enc, flip(1100)) },
  failed,
);
record(
  'ctx-enc-x25519-length',
  'a 32-byte (X25519-sized) context enc for an X-Wing record',
  { blob: first, contextEnc: classical.enc },
  { error: 'Malformed' },
);
record(
  'ctx-suite-unknown',
  'KEM id 0x647B (not a suite this build knows)',
  { blob: edit(first, (b) => b.writeUInt16BE(0x647b, 1)) },
  { error: 'UnsupportedSuite' },
);
record(
  'ctx-relabelled-x25519',
  'an X-Wing record whose header says DHKEM(X25519), opened with the xwing key: refused by key kind',
  { blob: edit(first, (b) => b.writeUInt16BE(0x0020, 1)) },
  { error: 'InvalidKey' },
);
record(
  'ctx-x25519-identity',
  'an X-Wing record opened with an x25519 key: refused, never tried as the other suite',
  { blob: first, identity: 'carol' },
  { error: 'InvalidKey' },
);
record(
  'ctx-x25519-record-relabelled-xwing',
  'an X25519 record whose header says X-Wing, opened with the xwing key and its 32-byte enc',
  { blob: edit(classicalRecord, (b) => b.writeUInt16BE(0x647a, 1)), contextEnc: classical.enc },
  { error: 'Malformed' },
);
record(
  'ctx-x25519-record-good',
  'an X25519 record of the same data key id still opens with its x25519 key',
  { blob: classicalRecord, identity: 'carol', contextEnc: classical.enc },
  opens(pan),
);

// Version 1 (single-shot): the 1120-byte enc inside the blob.
record('v1-good', 'single-shot X-Wing record', { blob: single, contextEnc: null }, opens(pan));
record('v1-good-empty', 'empty plaintext', { blob: singleEmpty, contextEnc: null }, opens(Buffer.alloc(0)));
record(
  'v1-truncated-enc',
  'header and 500 bytes of enc',
  { blob: single.subarray(0, 507), contextEnc: null },
  { error: 'Truncated' },
);
record(
  'v1-truncated-tag',
  'header, enc and 15 tag bytes',
  { blob: single.subarray(0, 7 + 1120 + 15), contextEnc: null },
  { error: 'Truncated' },
);
record('v1-flip-enc-mlkem', 'ML-KEM ciphertext bit flipped', { blob: edit(single, flip(7)), contextEnc: null }, failed);
record(
  'v1-flip-enc-x25519',
  'X25519 ephemeral key bit flipped',
  { blob: edit(single, flip(7 + 1100)), contextEnc: null },
  failed,
);
record(
  'v1-low-order-x25519',
  'X25519 half of the enc replaced by the all-zero point: refused by the all-zero DH check',
  { blob: edit(single, (b) => b.fill(0, 7 + 1088, 7 + 1120)), contextEnc: null },
  failed,
);
record(
  'v1-flip-ciphertext',
  'ciphertext bit flipped',
  { blob: edit(single, flip(7 + 1120)), contextEnc: null },
  failed,
);
record(
  'v1-trailing-byte',
  'one byte appended',
  { blob: Buffer.concat([single, Buffer.of(0)]), contextEnc: null },
  failed,
);
record('v1-wrong-recipient', 'opened by bob', { blob: single, identity: 'bob', contextEnc: null }, failed);
record('v1-wrong-type', 'opened as an ssn', { blob: single, type: 'ssn', contextEnc: null }, failed);
record(
  'v1-relabelled-x25519',
  'header says DHKEM(X25519), opened with the xwing key',
  { blob: edit(single, (b) => b.writeUInt16BE(0x0020, 1)), contextEnc: null },
  { error: 'InvalidKey' },
);
record(
  'v1-x25519-identity',
  'an X-Wing blob opened with an x25519 key',
  { blob: single, identity: 'carol', contextEnc: null },
  { error: 'InvalidKey' },
);

// Wrapped keys: a data key's private half wrapped to an xwing user key (sealed blob v1, X-Wing).
const classicalDataKey = PrivateKey.fromBytes('x25519', Buffer.alloc(32, 0x11));
const hybridDataKey = PrivateKey.fromBytes('xwing', Buffer.alloc(32, 0x22));
function wrap(
  name: string,
  description: string,
  c: { blob: Buffer; kind: string; recipientId?: string },
  expect: Expect,
) {
  file(name, {
    description,
    operation: 'unwrapPrivateKey',
    identity: identity('alice'),
    kind: c.kind,
    dataKeyId,
    recipientId: c.recipientId ?? 'user-alice',
    blob: c.blob.toString('hex'),
    expect,
  });
}
const wrappedClassical = wrapPrivateKey(classicalDataKey, alice.publicKey, dataKeyWrapBinding(dataKeyId, 'user-alice'));
const wrappedHybrid = wrapPrivateKey(hybridDataKey, alice.publicKey, dataKeyWrapBinding(dataKeyId, 'user-alice'));
wrap(
  'wrap-x25519-data-key',
  'an x25519 data key wrapped to an xwing user key',
  { blob: wrappedClassical, kind: 'x25519' },
  { publicKey: classicalDataKey.publicKey.bytes().toString('hex') },
);
wrap(
  'wrap-xwing-data-key',
  'an xwing data key (its 32-byte seed) wrapped to an xwing user key',
  { blob: wrappedHybrid, kind: 'xwing' },
  { publicKey: hybridDataKey.publicKey.bytes().toString('hex') },
);
wrap(
  'wrap-wrong-recipient-id',
  'unwrapped as if wrapped to another user',
  { blob: wrappedHybrid, kind: 'xwing', recipientId: 'user-bob' },
  failed,
);
wrap(
  'wrap-wrong-kind',
  'an xwing data key unwrapped as x25519',
  { blob: wrappedHybrid, kind: 'x25519' },
  {
    error: 'WrongKeyKind',
  },
);
for (const c of [context, other, classical]) c.destroy();
