/**
 * Authenticated vault replies to the admin plane (issue 9, item 2).
 *
 * The vault holds an Ed25519 *reply key* of its own (a file on its host, never in the database)
 * and signs every `vault.admin.*` reply with it. The org key certifies that key once, at
 * `coffer init` (or by a key-admin for an installation made before this existed), so the admin
 * plane checks replies against the trust root it already pins and needs no second pinned key.
 *
 * Certificate v1: Ed25519 by the org key over lengthPrefixed("coffer/vault-reply-key/v1", key).
 * Reply signature v1: Ed25519 by the reply key over
 *   lengthPrefixed("coffer/vault-reply/v1", op, SHA-256(request bytes), SHA-256(reply bytes))
 * over the exact bytes sent and received, so a rewritten reply, a reply to another operation, or
 * an old reply replayed to a new request (each request carries a fresh nonce) does not verify.
 * The two labels differ, so a certificate is never a reply signature or the reverse.
 *
 * Framed reply signature v1 (issue 14): the same over the body of a binary reply frame (an export
 * page, @coffer/protocol reply-frame.ts), under its own label "coffer/vault-reply-frame/v1", so
 * that a JSON reply's signature never passes for a frame's or the reverse.
 */
import { createHash, sign, verify } from 'node:crypto';
import { fromBase64url, lengthPrefixed, wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { assertKind, exportPrivateBytes, PrivateKey, PublicKey, privateKeyObject } from '../keys/keys.ts';

export const VAULT_REPLY_KEY_LABEL = 'coffer/vault-reply-key/v1';
export const VAULT_REPLY_LABEL = 'coffer/vault-reply/v1';
export const VAULT_REPLY_FRAME_LABEL = 'coffer/vault-reply-frame/v1';
const KEY_FILE_KIND = 'coffer-vault-reply-key';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest();

function signatureBytes(signature: unknown): Buffer {
  if (signature instanceof Uint8Array) {
    if (signature.length !== 64) throw new CryptoError('BadSignature', 'signature is not 64 bytes');
    return Buffer.from(signature.buffer, signature.byteOffset, signature.length);
  }
  if (typeof signature !== 'string') throw new CryptoError('BadSignature', 'signature must be base64url');
  try {
    return fromBase64url(signature, 64);
  } catch {
    throw new CryptoError('BadSignature', 'signature is not 64 bytes of base64url');
  }
}

/** The org key's certificate (base64url signature) for the vault's reply key. */
export function certifyVaultReplyKey(orgKey: PrivateKey<'ed25519'>, replyKey: PublicKey<'ed25519'>): string {
  assertKind(orgKey, 'ed25519', 'org key');
  assertKind(replyKey, 'ed25519', 'vault reply key');
  const bytes = lengthPrefixed(VAULT_REPLY_KEY_LABEL, fromBase64url(replyKey.toBase64url(), 32));
  return sign(null, bytes, privateKeyObject(orgKey)).toString('base64url');
}

/** The reply key named by `key` (base64url) if `certificate` is the trust root's; else BadSignature. */
export function verifyVaultReplyKey(
  trustRoot: PublicKey<'ed25519'>,
  key: unknown,
  certificate: unknown,
): PublicKey<'ed25519'> {
  assertKind(trustRoot, 'ed25519', 'trust root');
  if (typeof key !== 'string') throw new CryptoError('InvalidKey', 'vault reply key must be base64url');
  const replyKey = PublicKey.fromBase64url('ed25519', key);
  const bytes = lengthPrefixed(VAULT_REPLY_KEY_LABEL, fromBase64url(key, 32));
  if (!verify(null, bytes, trustRoot.keyObject, signatureBytes(certificate))) {
    throw new CryptoError('BadSignature', 'vault reply key is not certified by the trust root');
  }
  return replyKey;
}

type ReplyForm = 'json' | 'frame';

// SHA-256 of the reply, not the reply itself: a page is hashed once here, not twice more inside Ed25519.
function replyMessage(form: ReplyForm, op: string, request: Uint8Array, reply: Uint8Array): Buffer {
  const label = form === 'json' ? VAULT_REPLY_LABEL : VAULT_REPLY_FRAME_LABEL;
  return lengthPrefixed(label, op, sha256(request), sha256(reply));
}

function signReply(key: PrivateKey<'ed25519'>, message: Buffer): Buffer {
  assertKind(key, 'ed25519', 'vault reply key');
  return sign(null, message, privateKeyObject(key));
}

function verifyReply(key: PublicKey<'ed25519'>, message: Buffer, signature: unknown): void {
  assertKind(key, 'ed25519', 'vault reply key');
  if (!verify(null, message, key.keyObject, signatureBytes(signature))) {
    throw new CryptoError('BadSignature', 'vault reply');
  }
}

/** Sign one reply: the operation, the exact request bytes received, the exact reply bytes sent. */
export function signVaultReply(key: PrivateKey<'ed25519'>, op: string, request: Uint8Array, reply: Uint8Array): string {
  return signReply(key, replyMessage('json', op, request, reply)).toString('base64url');
}

/** Check one reply's signature; BadSignature unless `key` signed exactly these bytes for `op`. */
export function verifyVaultReply(
  key: PublicKey<'ed25519'>,
  op: string,
  request: Uint8Array,
  reply: Uint8Array,
  signature: unknown,
): void {
  verifyReply(key, replyMessage('json', op, request, reply), signature);
}

/** Sign one reply frame's body (64 raw bytes): the operation, the exact request, the exact body. */
export function signVaultReplyFrame(
  key: PrivateKey<'ed25519'>,
  op: string,
  request: Uint8Array,
  body: Uint8Array,
): Buffer {
  return signReply(key, replyMessage('frame', op, request, body));
}

/** Check one reply frame's signature (64 raw bytes); BadSignature unless `key` signed exactly this body. */
export function verifyVaultReplyFrame(
  key: PublicKey<'ed25519'>,
  op: string,
  request: Uint8Array,
  body: Uint8Array,
  signature: Uint8Array,
): void {
  verifyReply(key, replyMessage('frame', op, request, body), signature);
}

/** The reply key's file: `{"v":1,"kind":"coffer-vault-reply-key","privateKey":<base64url>}`, mode 0600. */
export function encodeVaultReplyKeyFile(key: PrivateKey<'ed25519'>): string {
  assertKind(key, 'ed25519', 'vault reply key');
  const raw = exportPrivateBytes(key);
  try {
    return `${JSON.stringify({ v: 1, kind: KEY_FILE_KIND, privateKey: raw.toString('base64url') })}\n`;
  } finally {
    wipe(raw);
  }
}

export function decodeVaultReplyKeyFile(text: string): PrivateKey<'ed25519'> {
  let parsed: { v?: unknown; kind?: unknown; privateKey?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CryptoError('Malformed', 'vault reply key file is not JSON');
  }
  if (parsed.v !== 1 || parsed.kind !== KEY_FILE_KIND || typeof parsed.privateKey !== 'string') {
    throw new CryptoError('Malformed', 'not a coffer vault reply key file');
  }
  const raw = fromBase64url(parsed.privateKey, 32);
  try {
    return PrivateKey.fromBytes('ed25519', raw);
  } finally {
    wipe(raw);
  }
}
