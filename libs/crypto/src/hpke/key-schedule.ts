/**
 * The HPKE key schedule (RFC 9180 §5.1) on HKDF-SHA256 (RFC 5869, on node:crypto's HMAC): from a
 * KEM shared secret and the info, the AEAD key and base nonce a context uses. Also the labeled
 * extract and expand that DHKEM (dhkem.ts) derives its shared secret with.
 */
import { createHmac } from 'node:crypto';
import { GCM_NONCE_LENGTH } from '../aead/aes-gcm.ts';
import { i2osp, utf8, wipe } from '../bytes.ts';
import { AEAD_AES_256_GCM, type Suite } from './suites.ts';

export const HASH_LENGTH = 32;
const MODE_BASE = 0x00;
const VERSION_LABEL = utf8('HPKE-v1');
export const EMPTY = Buffer.alloc(0);

// RFC 5869, on HMAC-SHA256. An empty salt is HashLen zero bytes, as the RFC says. The input is
// fed in parts rather than concatenated: a concatenation would be a copy of the secret in Node's
// shared Buffer pool, out of wipe()'s reach.
function extract(salt: Uint8Array, ...ikm: Uint8Array[]): Buffer {
  const hmac = createHmac('sha256', salt.length === 0 ? Buffer.alloc(HASH_LENGTH) : salt);
  for (const part of ikm) hmac.update(part);
  return hmac.digest();
}

// The output is allocated with Buffer.alloc (memory of its own, never a pool slice) and every
// HMAC block is wiped once copied, so wiping the result leaves no copy of the secret behind.
function expand(prk: Uint8Array, info: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  let previous = EMPTY;
  for (let i = 1, written = 0; written < length; i++) {
    const block = createHmac('sha256', prk).update(previous).update(info).update(Buffer.of(i)).digest();
    wipe(previous);
    written += block.copy(out, written);
    previous = block;
  }
  wipe(previous);
  return out;
}

export function labeledExtract(suiteId: Buffer, salt: Uint8Array, label: string, ikm: Uint8Array): Buffer {
  return extract(salt, VERSION_LABEL, suiteId, utf8(label), ikm);
}

export function labeledExpand(
  suiteId: Buffer,
  prk: Uint8Array,
  label: string,
  info: Uint8Array,
  length: number,
): Buffer {
  return expand(prk, Buffer.concat([i2osp(length, 2), VERSION_LABEL, suiteId, utf8(label), info]), length);
}

function suiteId(suite: Suite): Buffer {
  return Buffer.concat([utf8('HPKE'), i2osp(suite.kem, 2), i2osp(suite.kdf, 2), i2osp(suite.aead, 2)]);
}

const contextCache = new Map<string, Buffer>();

/**
 * key_schedule_context depends only on suite and info; Coffer's infos are a few constants. Callers
 * get a copy, so nothing they do to it can change what the next key schedule uses.
 */
function keyScheduleContext(suite: Suite, info: Uint8Array): Buffer {
  const cacheKey = `${suite.kem}:${suite.kdf}:${suite.aead}:${Buffer.from(info).toString('base64')}`;
  const hit = contextCache.get(cacheKey);
  if (hit) return Buffer.from(hit);
  const id = suiteId(suite);
  const context = Buffer.concat([
    Buffer.of(MODE_BASE),
    labeledExtract(id, EMPTY, 'psk_id_hash', EMPTY),
    labeledExtract(id, EMPTY, 'info_hash', info),
  ]);
  if (contextCache.size < 64) contextCache.set(cacheKey, Buffer.from(context));
  return context;
}

/** Everything the key schedule produces; the tests compare each field with the RFC. */
export interface KeySchedule {
  readonly keyScheduleContext: Buffer;
  readonly secret: Buffer;
  readonly key: Buffer;
  readonly baseNonce: Buffer;
  readonly exporterSecret: Buffer;
}

export function keySchedule(suite: Suite, sharedSecret: Uint8Array, info: Uint8Array): KeySchedule {
  const id = suiteId(suite);
  const context = keyScheduleContext(suite, info);
  const secret = labeledExtract(id, sharedSecret, 'secret', EMPTY);
  const keyLength = suite.aead === AEAD_AES_256_GCM ? 32 : 16;
  return {
    keyScheduleContext: context,
    secret,
    key: labeledExpand(id, secret, 'key', context, keyLength),
    baseNonce: labeledExpand(id, secret, 'base_nonce', context, GCM_NONCE_LENGTH),
    exporterSecret: labeledExpand(id, secret, 'exp', context, HASH_LENGTH),
  };
}
