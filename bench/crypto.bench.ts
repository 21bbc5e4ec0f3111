/**
 * `pnpm bench:crypto`: single-threaded ops/s of the crypto core, with RSA-OAEP-3072 (the scheme's
 * first sketch) and @hpke/core (the other RFC 9180 implementation) beside it. Copy the printed
 * table into docs/benchmarks.md with the machine line.
 */
import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, sign, verify } from 'node:crypto';
import {
  createSessionToken,
  dataKeyWrapBinding,
  deriveSessionKey,
  enrollPassword,
  open,
  PrivateKey,
  recordBinding,
  seal,
  sessionKeyAad,
  signDataKeyBundle,
  unlockWithPassword,
  unwrapPrivateKey,
  unwrapWithSymmetricKey,
  verifyDataKeyBundle,
  wrapPrivateKey,
  wrapWithSymmetricKey,
} from '@coffer/crypto';
import { Aes256Gcm, CipherSuite, HkdfSha256, DhkemX25519HkdfSha256 as WebCryptoX25519 } from '@hpke/core';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import argon2 from 'argon2';
import { machine, measure, type Result, table } from './measure.ts';

const results: Result[] = [];
const run = async (name: string, op: () => unknown, seconds?: number) => {
  const r = await measure(name, op, seconds);
  results.push(r);
  console.error(`${name}: ${Math.round(r.opsPerSecond)} ops/s`);
};

// Records: a 16-digit PAN sealed to a data key with its record binding.
const dataKey = PrivateKey.generate('x25519');
const binding = recordBinding('0193a4b0-7c1e-7000-8000-000000000001', 'pan', 'dk-1');
const value = Buffer.from('4111111111111111');
const blob = seal(dataKey.publicKey, value, binding);
await run('seal record (node:crypto HPKE)', () => seal(dataKey.publicKey, value, binding));
await run('open record (node:crypto HPKE)', () => open(dataKey, blob, binding));

// The same seal and open in @hpke/core with its pure-JS X25519 KEM.
const reference = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
const ab = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
const info = ab(Buffer.from(binding.info));
const aad = ab(binding.aad);
const refPublic = await reference.kem.deserializePublicKey(ab(dataKey.publicKey.bytes()));
const refPair = await reference.kem.generateKeyPair();
const refSealed = await reference.seal({ recipientPublicKey: refPair.publicKey, info }, ab(value), aad);
await run('seal record (@hpke/core, pure-JS X25519)', () =>
  reference.seal({ recipientPublicKey: refPublic, info }, ab(value), aad),
);
await run('open record (@hpke/core, pure-JS X25519)', () =>
  reference.open({ recipientKey: refPair.privateKey, enc: refSealed.enc, info }, refSealed.ct, aad),
);

// @hpke/core again, with its WebCrypto-backed X25519 KEM instead of the pure-JS one.
const webSuite = new CipherSuite({ kem: new WebCryptoX25519(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
const webPublic = await webSuite.kem.deserializePublicKey(ab(dataKey.publicKey.bytes()));
const webPair = await webSuite.kem.generateKeyPair();
const webSealed = await webSuite.seal({ recipientPublicKey: webPair.publicKey, info }, ab(value), aad);
await run('seal record (@hpke/core, WebCrypto X25519)', () =>
  webSuite.seal({ recipientPublicKey: webPublic, info }, ab(value), aad),
);
await run('open record (@hpke/core, WebCrypto X25519)', () =>
  webSuite.open({ recipientKey: webPair.privateKey, enc: webSealed.enc, info }, webSealed.ct, aad),
);

// Key wrapping: a data key to a user (HPKE), a user key under a session key (AES-256-GCM).
const user = PrivateKey.generate('x25519');
const wrapBinding = dataKeyWrapBinding('dk-1', 'user-1');
const wrapped = wrapPrivateKey(dataKey, user.publicKey, wrapBinding);
await run('wrap data key to user (HPKE)', () => wrapPrivateKey(dataKey, user.publicKey, wrapBinding));
await run('unwrap data key (HPKE + key import)', () => unwrapPrivateKey('x25519', user, wrapped, wrapBinding));
const sessionKey = deriveSessionKey(createSessionToken(), 'session-1');
const sessionAad = sessionKeyAad('session-1', 'user-1');
const sessionWrapped = wrapWithSymmetricKey(user, sessionKey, sessionAad);
await run('wrap user key under session key', () => wrapWithSymmetricKey(user, sessionKey, sessionAad));
await run('unwrap user key (AES-GCM + key import)', () =>
  unwrapWithSymmetricKey('x25519', sessionKey, sessionWrapped, sessionAad),
);

// Signatures over the canonical data key bundle, and raw Ed25519 for comparison.
const orgKey = PrivateKey.generate('ed25519');
const bundle = {
  id: 'dk-1',
  publicKey: dataKey.publicKey.toBase64url(),
  notBefore: '2026-10-01T00:00:00.000Z',
  notAfter: '2026-12-30T00:00:00.000Z',
};
const signature = signDataKeyBundle(orgKey, bundle);
await run('sign data key bundle (Ed25519)', () => signDataKeyBundle(orgKey, bundle));
await run('verify data key bundle (Ed25519)', () => verifyDataKeyBundle(orgKey.publicKey, bundle, signature));
const ed = generateKeyPairSync('ed25519');
const message = randomBytes(100);
const edSig = sign(null, message, ed.privateKey);
await run('Ed25519 sign, 100 bytes (raw node:crypto)', () => sign(null, message, ed.privateKey));
await run('Ed25519 verify, 100 bytes (raw node:crypto)', () => verify(null, message, ed.publicKey, edSig));

// Passwords at the floor parameters (argon2id m=64 MiB, t=3, p=4).
const password = 'quiet-harbour-lantern-91-orbit';
const { verifier } = await enrollPassword(password);
await run('argon2id verify + KEK (one call, HKDF split)', () => unlockWithPassword(password, verifier), 4);
await run('KEK derivation at enrolment (one call)', () => enrollPassword(password), 4);
const argonOptions = { type: argon2.argon2id, memoryCost: 65536, timeCost: 3, parallelism: 4 } as const;
const phc = await argon2.hash(password, argonOptions);
await run(
  'alternative: argon2id verify (PHC) + separate KEK call',
  async () => {
    await argon2.verify(phc, password);
    await argon2.hash(password, { ...argonOptions, raw: true, salt: randomBytes(16) });
  },
  4,
);

// RSA-OAEP-3072 (SHA-256), the first sketch of the scheme, on a 32-byte payload.
const rsa = generateKeyPairSync('rsa', { modulusLength: 3072 });
const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
const rsaCiphertext = publicEncrypt({ key: rsa.publicKey, ...oaep }, value);
await run('RSA-OAEP-3072 encrypt', () => publicEncrypt({ key: rsa.publicKey, ...oaep }, value));
await run('RSA-OAEP-3072 decrypt', () => privateDecrypt({ key: rsa.privateKey, ...oaep }, rsaCiphertext));

console.log(`Machine: ${machine()}\n`);
console.log(table(results));
