/**
 * `pnpm tsx bench/pq.bench.ts [--json]`: X-Wing (ML-KEM-768 + X25519) against DHKEM(X25519) per
 * record context and per record, single-shot and under a context, with @hpke/hybridkem-x-wing
 * beside it; then the sizes each suite adds. Single-threaded; copy the output into
 * docs/benchmarks.md with the machine line and the load average it prints.
 */
import { loadavg } from 'node:os';
import {
  dataKeyWrapBinding,
  open,
  openRecord,
  PrivateKey,
  RECORD_CONTEXT_BLOB_OVERHEAD,
  type RecipientKind,
  RecordOpeningContext,
  RecordSealingContext,
  recordBinding,
  SEALED_BLOB_OVERHEAD,
  SEALED_BLOB_OVERHEAD_XWING,
  seal,
  signDataKeyBundle,
  unwrapPrivateKey,
  wrapPrivateKey,
} from '@coffer/crypto';
import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';
import { machine, measure, type Result, table } from './measure.ts';

const json = process.argv.includes('--json');
// `--seconds N` shortens or lengthens each row (default 1.5 s); a short run only checks the output.
const secondsFlag = process.argv.indexOf('--seconds');
const seconds = secondsFlag > 0 ? Number(process.argv[secondsFlag + 1]) : 1.5;
if (!(seconds > 0)) throw new Error('--seconds needs a positive number');
const results: Result[] = [];
const run = async (name: string, op: () => unknown) => {
  const r = await measure(name, op, seconds);
  results.push(r);
  if (!json) console.error(`${name}: ${Math.round(r.opsPerSecond)} ops/s`);
};
const loadBefore = loadavg();

const value = Buffer.from('4111111111111111');
const recordId = '0193a4b0-7c1e-7000-8000-000000000001';
const keys = { x25519: PrivateKey.generate('x25519'), xwing: PrivateKey.generate('xwing') } as const;
const label = { x25519: 'X25519', xwing: 'X-Wing' } as const;

for (const kind of ['x25519', 'xwing'] as const satisfies readonly RecipientKind[]) {
  const key = keys[kind];
  const name = label[kind];
  // Per context: the one key agreement (encapsulation on ingest, decapsulation on export/reveal).
  await run(`${name}: set up a sealing context (encap)`, () =>
    RecordSealingContext.create(key.publicKey, 'dk-1').destroy(),
  );
  const sender = RecordSealingContext.create(key.publicKey, 'dk-1', 2 ** 32);
  const enc = sender.enc;
  await run(`${name}: set up an opening context (decap)`, () =>
    RecordOpeningContext.open(key, sender.contextId, 'dk-1', enc).destroy(),
  );
  // Per record under a context: AES-256-GCM alone, whatever the KEM.
  await run(`${name}: seal a record under a context`, () => sender.seal(recordId, 'pan', value));
  const blob = sender.seal(recordId, 'pan', value);
  const opener = RecordOpeningContext.open(key, sender.contextId, 'dk-1', enc);
  await run(`${name}: open a record under a context`, () => opener.open(blob, recordId, 'pan'));
  // One record alone: a reveal of a v2 record (decap + open), and the v1 single-shot blob.
  await run(`${name}: open one v2 record (reveal: decap + open)`, () =>
    openRecord(key, blob, { recordId, type: 'pan', dataKeyId: 'dk-1', contextEnc: enc }),
  );
  const binding = recordBinding(recordId, 'pan', 'dk-1');
  await run(`${name}: single-shot seal (v1 blob)`, () => seal(key.publicKey, value, binding));
  const single = seal(key.publicKey, value, binding);
  await run(`${name}: single-shot open (v1 blob)`, () => open(key, single, binding));
  // A data key wrapped to a user of this kind, and unwrapped (a reveal's second key).
  const wrapBinding = dataKeyWrapBinding('dk-1', 'user-1');
  const wrapped = wrapPrivateKey(keys.xwing, key.publicKey, wrapBinding);
  await run(`${name}: unwrap an xwing data key (decap + seed expansion)`, () =>
    unwrapPrivateKey('xwing', key, wrapped, wrapBinding),
  );
  sender.destroy();
  opener.destroy();
}
await run('X-Wing: generate a key pair (seed expansion)', () => PrivateKey.generate('xwing'));

// The reference: @hpke/core with @hpke/hybridkem-x-wing (mlkem + pure-JS X25519), single-shot.
const reference = new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
const ab = (b: Uint8Array) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
const pair = await reference.kem.generateKeyPair();
const info = ab(Buffer.from('coffer/record/v1'));
const aad = ab(recordBinding(recordId, 'pan', 'dk-1').aad);
const refSealed = await reference.seal({ recipientPublicKey: pair.publicKey, info }, ab(value), aad);
await run('@hpke/hybridkem-x-wing: single-shot seal', () =>
  reference.seal({ recipientPublicKey: pair.publicKey, info }, ab(value), aad),
);
await run('@hpke/hybridkem-x-wing: single-shot open', () =>
  reference.open({ recipientKey: pair.privateKey, enc: refSealed.enc, info }, refSealed.ct, aad),
);

// Sizes, in bytes: computed from the formats (enc lengths are checked by the seals above).
const contextX25519 = RecordSealingContext.create(keys.x25519.publicKey, 'dk-1');
const contextXWing = RecordSealingContext.create(keys.xwing.publicKey, 'dk-1');
const perContext = { x25519: 16 + contextX25519.enc.length, xwing: 16 + contextXWing.enc.length };
contextX25519.destroy();
contextXWing.destroy();
const bundleOf = (kind: RecipientKind) => {
  const bundle = {
    id: 'dk-2027-q1',
    ...(kind === 'xwing' ? { suite: 'xwing' as const } : {}),
    publicKey: keys[kind].publicKey.toBase64url(),
    notBefore: '2027-01-01T00:00:00.000Z',
    notAfter: '2027-04-01T00:00:00.000Z',
  };
  const orgKey = PrivateKey.generate('ed25519');
  return JSON.stringify({ bundle, signature: signDataKeyBundle(orgKey, bundle) }).length;
};
const wrappedSize = (kind: RecipientKind) =>
  wrapPrivateKey(keys.xwing, keys[kind].publicKey, dataKeyWrapBinding('dk-1', 'u')).length;
const sizes = {
  publicKey: { x25519: keys.x25519.publicKey.bytes().length, xwing: keys.xwing.publicKey.bytes().length },
  privateKey: { x25519: 32, xwing: 32 },
  recordOverheadUnderContext: { x25519: RECORD_CONTEXT_BLOB_OVERHEAD, xwing: RECORD_CONTEXT_BLOB_OVERHEAD },
  perContext,
  perRecordAt: Object.fromEntries(
    [1, 64, 4096].map((n) => [
      n,
      {
        x25519: +(RECORD_CONTEXT_BLOB_OVERHEAD + perContext.x25519 / n).toFixed(2),
        xwing: +(RECORD_CONTEXT_BLOB_OVERHEAD + perContext.xwing / n).toFixed(2),
      },
    ]),
  ),
  singleShotOverhead: { x25519: SEALED_BLOB_OVERHEAD, xwing: SEALED_BLOB_OVERHEAD_XWING },
  wrappedKeyToRecipient: { x25519: wrappedSize('x25519'), xwing: wrappedSize('xwing') },
  signedBundleJson: { x25519: bundleOf('x25519'), xwing: bundleOf('xwing') },
};
const loadAfter = loadavg();

if (json) {
  console.log(JSON.stringify({ machine: machine(), loadBefore, loadAfter, seconds, results, sizes }, null, 2));
} else {
  const fmt = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`Machine: ${machine()}; load average before ${fmt(loadBefore)}, after ${fmt(loadAfter)}\n`);
  console.log(table(results));
  console.log('\n| size (bytes) | X25519 | X-Wing |\n|---|---:|---:|');
  const row = (name: string, v: { x25519: number; xwing: number }) =>
    console.log(`| ${name} | ${v.x25519} | ${v.xwing} |`);
  row('public key', sizes.publicKey);
  row('private key as stored/wrapped (seed)', sizes.privateKey);
  row('per context (id + enc, stored once)', sizes.perContext);
  row('per record under a context (header, sequence, tag)', sizes.recordOverheadUnderContext);
  for (const [n, v] of Object.entries(sizes.perRecordAt)) row(`per record, amortised, ${n} records a context`, v);
  row('single-shot blob overhead (v1)', sizes.singleShotOverhead);
  row('wrapped private key (v1 blob)', sizes.wrappedKeyToRecipient);
  row('signed data key bundle, JSON', sizes.signedBundleJson);
}
