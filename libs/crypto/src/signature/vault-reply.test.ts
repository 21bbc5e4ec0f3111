import { createHash, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PrivateKey } from '../keys/keys.ts';
import {
  certifyVaultReplyKey,
  decodeVaultReplyKeyFile,
  encodeVaultReplyKeyFile,
  signVaultReply,
  signVaultReplyFrame,
  verifyVaultReply,
  verifyVaultReplyFrame,
  verifyVaultReplyKey,
} from './vault-reply.ts';

const bytes = (s: string) => Buffer.from(s, 'utf8');
const vector = JSON.parse(readFileSync(new URL('./vectors/vault-reply-v1.json', import.meta.url), 'utf8'));

describe('vault reply known answers (vectors/vault-reply-v1.json)', () => {
  const org = PrivateKey.fromBytes('ed25519', Buffer.from(vector.orgPrivateKey, 'hex'));
  const key = PrivateKey.fromBytes('ed25519', Buffer.from(vector.replyPrivateKey, 'hex'));
  it('certificate and reply signature are exactly the recorded ones (Ed25519 is deterministic)', () => {
    expect(key.publicKey.toBase64url()).toBe(vector.replyKey);
    expect(certifyVaultReplyKey(org, key.publicKey)).toBe(vector.certificate);
    expect(signVaultReply(key, vector.op, bytes(vector.request), bytes(vector.reply))).toBe(vector.signature);
    const certified = verifyVaultReplyKey(org.publicKey, vector.replyKey, vector.certificate);
    expect(() =>
      verifyVaultReply(certified, vector.op, bytes(vector.request), bytes(vector.reply), vector.signature),
    ).not.toThrow();
  });
});

describe('vault reply frame known answer (vectors/vault-reply-frame-v1.json)', () => {
  const frame = JSON.parse(readFileSync(new URL('./vectors/vault-reply-frame-v1.json', import.meta.url), 'utf8'));
  const key = PrivateKey.fromBytes('ed25519', Buffer.from(frame.replyPrivateKey, 'hex'));
  const body = Buffer.from(frame.body, 'hex');
  it('the signature is exactly the recorded one, over the message docs/crypto.md describes', () => {
    const signature = signVaultReplyFrame(key, frame.op, bytes(frame.request), body);
    expect(signature.toString('hex')).toBe(frame.signature);
    // Built here by hand, not by the module: u16 length before each field.
    const field = (b: Buffer) => Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest();
    const message = Buffer.concat(
      [bytes('coffer/vault-reply-frame/v1'), bytes(frame.op), sha(bytes(frame.request)), sha(body)].map(field),
    );
    expect(verify(null, message, key.publicKey.keyObject, signature)).toBe(true);
    expect(() => verifyVaultReplyFrame(key.publicKey, frame.op, bytes(frame.request), body, signature)).not.toThrow();
  });

  it('a frame signature is never a JSON reply signature, nor the reverse (distinct labels)', () => {
    const request = bytes(frame.request);
    const signature = signVaultReplyFrame(key, frame.op, request, body);
    expect(() => verifyVaultReply(key.publicKey, frame.op, request, body, signature.toString('base64url'))).toThrow(
      /vault reply/,
    );
    const json = Buffer.from(signVaultReply(key, frame.op, request, body), 'base64url');
    expect(() => verifyVaultReplyFrame(key.publicKey, frame.op, request, body, json)).toThrow(/vault reply/);
  });

  it('covers the operation, the exact request and every byte of the body', () => {
    const request = bytes(frame.request);
    const signature = signVaultReplyFrame(key, frame.op, request, body);
    const flipped = Buffer.from(body);
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 1) ^ 1, flipped.length - 1);
    const changed = [
      ['export.chunk', request, body],
      [frame.op, bytes(frame.request.replace('"limit":1', '"limit":2')), body],
      [frame.op, request, flipped],
      [frame.op, request, body.subarray(0, -1)],
    ] as const;
    for (const [op, req, b] of changed) {
      expect(() => verifyVaultReplyFrame(key.publicKey, op, req, b, signature)).toThrow(/vault reply/);
    }
    expect(() => verifyVaultReplyFrame(key.publicKey, frame.op, request, body, signature.subarray(1))).toThrow(
      /64 bytes/,
    );
  });
});

describe('vault reply signatures', () => {
  const org = PrivateKey.generate('ed25519');
  const vault = PrivateKey.generate('ed25519');
  const request = bytes('{"v":1,"session":"ab","replyNonce":"AAAAAAAAAAAAAAAAAAAAAA"}');
  const reply = bytes('{"v":1,"ok":true,"result":{"items":[]}}');

  it('a certified key verifies under the trust root, and no other root', () => {
    const certificate = certifyVaultReplyKey(org, vault.publicKey);
    const key = verifyVaultReplyKey(org.publicKey, vault.publicKey.toBase64url(), certificate);
    expect(key.toBase64url()).toBe(vault.publicKey.toBase64url());
    const other = PrivateKey.generate('ed25519');
    expect(() => verifyVaultReplyKey(other.publicKey, vault.publicKey.toBase64url(), certificate)).toThrow(
      /not certified/,
    );
    const planted = PrivateKey.generate('ed25519').publicKey.toBase64url();
    expect(() => verifyVaultReplyKey(org.publicKey, planted, certificate)).toThrow(/not certified/);
  });

  it('covers the operation, the exact request and the exact reply', () => {
    const signature = signVaultReply(vault, 'users.list', request, reply);
    expect(() => verifyVaultReply(vault.publicKey, 'users.list', request, reply, signature)).not.toThrow();
    const changed = [
      ['whoami', request, reply],
      ['users.list', bytes('{"v":1,"session":"ab","replyNonce":"AAAAAAAAAAAAAAAAAAAAAB"}'), reply],
      ['users.list', request, bytes('{"v":1,"ok":true,"result":{"items":[{}]}}')],
    ] as const;
    for (const [op, req, rep] of changed) {
      expect(() => verifyVaultReply(vault.publicKey, op, req, rep, signature)).toThrow(/vault reply/);
    }
    const other = PrivateKey.generate('ed25519');
    expect(() => verifyVaultReply(other.publicKey, 'users.list', request, reply, signature)).toThrow();
    expect(() => verifyVaultReply(vault.publicKey, 'users.list', request, reply, 'not-a-signature')).toThrow(
      /base64url/,
    );
  });

  it('a certificate is never a reply signature (distinct labels)', () => {
    const certificate = certifyVaultReplyKey(vault, org.publicKey);
    expect(() => verifyVaultReply(vault.publicKey, '', new Uint8Array(), new Uint8Array(), certificate)).toThrow();
  });

  it('the key file round-trips and names its kind', () => {
    const text = encodeVaultReplyKeyFile(vault);
    expect(JSON.parse(text)).toMatchObject({ v: 1, kind: 'coffer-vault-reply-key' });
    expect(decodeVaultReplyKeyFile(text).publicKey.toBase64url()).toBe(vault.publicKey.toBase64url());
    expect(() => decodeVaultReplyKeyFile(text.replace('coffer-vault-reply-key', 'coffer-audit-signing-key'))).toThrow(
      /not a coffer vault reply key file/,
    );
  });
});
