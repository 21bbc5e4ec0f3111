/**
 * Writes the version-2 (record context) vector files in ./context-vectors: one JSON file per case
 * with its expected outcome. Run with `pnpm tsx libs/crypto/src/blob/generate-context-vectors.ts`
 * only when the format changes; seals draw fresh ephemeral keys and context ids, so a run rewrites
 * every file. The committed files are the reference record-context.test.ts reads.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveKeyPair } from '../hpke/hpke.ts';
import { RecordSealingContext } from './record-context.ts';

const dir = join(import.meta.dirname, 'context-vectors');
const recipients = { alice: Buffer.alloc(32, 0xa1), bob: Buffer.alloc(32, 0xb0) };
const alice = deriveKeyPair(recipients.alice);
const dataKeyId = 'dk-2026-q4';
const ids = ['0193a4b0-7c1e-7000-8000-000000000001', '0193a4b0-7c1e-7000-8000-000000000002'] as const;
const values = [Buffer.from('4111111111111111'), Buffer.from('078-05-1120'), Buffer.from('')];

const context = RecordSealingContext.create(alice.publicKey, dataKeyId);
const first = context.seal(ids[0] as string, 'pan', values[0] as Buffer);
const second = context.seal(ids[1] as string, 'ssn', values[1] as Buffer);
const third = context.seal('0193a4b0-7c1e-7000-8000-000000000003', 'secret', values[2] as Buffer);
const other = RecordSealingContext.create(alice.publicKey, dataKeyId);
const foreign = other.seal(ids[0] as string, 'pan', values[0] as Buffer);

type Expect = { plaintext: string } | { error: string };
interface Case {
  blob: Buffer;
  recordId?: string;
  type?: string;
  dataKeyId?: string;
  contextEnc?: Buffer | null;
  recipient?: 'alice' | 'bob';
}
function write(name: string, description: string, c: Case, expect: Expect) {
  const file = {
    description,
    recipientIkm: recipients[c.recipient ?? 'alice'].toString('hex'),
    dataKeyId: c.dataKeyId ?? dataKeyId,
    recordId: c.recordId ?? ids[0],
    type: c.type ?? 'pan',
    contextEnc: c.contextEnc === null ? null : (c.contextEnc ?? context.enc).toString('hex'),
    blob: c.blob.toString('hex'),
    expect,
  };
  writeFileSync(join(dir, `${name}.json`), `${JSON.stringify(file, null, 2)}\n`);
}
const edit = (blob: Buffer, patch: (b: Buffer) => void) => {
  const copy = Buffer.from(blob);
  patch(copy);
  return copy;
};
const failed = { error: 'DecryptionFailed' };

write(
  'good-seq-0',
  'the first record of a context: a PAN',
  { blob: first },
  { plaintext: values[0]?.toString('hex') as string },
);
write(
  'good-seq-1',
  'the second record of the same context: an SSN',
  { blob: second, recordId: ids[1], type: 'ssn' },
  { plaintext: values[1]?.toString('hex') as string },
);
write(
  'good-seq-2-empty',
  'the third record: an empty plaintext is still authenticated',
  { blob: third, recordId: '0193a4b0-7c1e-7000-8000-000000000003', type: 'secret' },
  { plaintext: '' },
);
write('truncated-empty', 'zero bytes', { blob: Buffer.alloc(0) }, { error: 'Truncated' });
write('truncated-header', 'version and part of the suite', { blob: first.subarray(0, 4) }, { error: 'Truncated' });
write('truncated-prefix', 'header and half a context id', { blob: first.subarray(0, 15) }, { error: 'Truncated' });
write('truncated-tag', 'prefix and 15 tag bytes', { blob: first.subarray(0, 27 + 15) }, { error: 'Truncated' });
write('trailing-byte', 'one byte appended', { blob: Buffer.concat([first, Buffer.of(0)]) }, failed);
write(
  'version-3',
  'format version 3 (from the future)',
  { blob: edit(first, (b) => (b[0] = 3)) },
  { error: 'UnsupportedVersion' },
);
write(
  'suite-kem',
  'KEM id 0x0021',
  { blob: edit(first, (b) => b.writeUInt16BE(0x0021, 1)) },
  { error: 'UnsupportedSuite' },
);
write(
  'suite-aead',
  'AEAD id 0x0001',
  { blob: edit(first, (b) => b.writeUInt16BE(0x0001, 5)) },
  { error: 'UnsupportedSuite' },
);
write(
  'flip-context-id',
  'a context id bit flipped: the HPKE info differs',
  { blob: edit(first, (b) => (b[7] = (b[7] as number) ^ 1)) },
  failed,
);
write(
  'sequence-swapped',
  'the second record relabelled as sequence 0: the nonce differs',
  { blob: edit(second, (b) => b.writeUInt32BE(0, 23)), recordId: ids[1], type: 'ssn' },
  failed,
);
write(
  'flip-ciphertext',
  'first ciphertext bit flipped',
  { blob: edit(first, (b) => (b[27] = (b[27] as number) ^ 1)) },
  failed,
);
write(
  'flip-tag',
  'last tag bit flipped',
  { blob: edit(first, (b) => (b[b.length - 1] = (b[b.length - 1] as number) ^ 0x80)) },
  failed,
);
write('wrong-record-id', 'opened as another record', { blob: first, recordId: ids[1] }, failed);
write('wrong-type', 'opened as an ssn', { blob: first, type: 'ssn' }, failed);
write('wrong-data-key-id', 'opened under another data key id', { blob: first, dataKeyId: 'dk-2027-q1' }, failed);
write('wrong-recipient', 'opened by bob', { blob: first, recipient: 'bob' }, failed);
write('wrong-context-enc', "opened with another context's enc", { blob: first, contextEnc: other.enc }, failed);
write(
  'foreign-context-relabelled',
  "a record of another context given this context's id: the key schedule differs",
  { blob: Buffer.concat([first.subarray(0, 23), foreign.subarray(23)]) },
  failed,
);
write(
  'no-context-enc',
  'a version-2 record opened without its context key',
  { blob: first, contextEnc: null },
  {
    error: 'ContextMismatch',
  },
);
context.destroy();
other.destroy();
