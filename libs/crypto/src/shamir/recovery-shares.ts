/**
 * The recovery key, split k-of-n with shamir-secret-sharing (audited), and its shares as text an
 * officer can print and type back in. Each share carries a checksum, so a mistyped share is named
 * instead of silently combining into a wrong key, and the id of its set (from the recovery public
 * key), so shares of different sets are never mixed. The threshold is the caller's (the vault
 * stores it beside the recovery public key); the k and n printed on a share are only checked
 * against it, never trusted: a forged share claiming 1-of-1 must not lower the bar.
 *
 * The secret is the key's 32 private bytes: an X25519 scalar, or an X-Wing key's seed. Shares do
 * not name the kind: it is the stored recovery public key's, checked against the rebuilt key.
 *
 * Share payload, version 1 (44 bytes), written in Crockford base32 in groups of five:
 *   0   1   version (0x01)
 *   1   1   threshold k
 *   2   1   share count n
 *   3   4   set id = SHA-256(recovery public key)[0..4]
 *   7   33  share (32 bytes of y, then the x coordinate)
 *   40  4   checksum = SHA-256("coffer/share/v1" ‖ bytes 0..40)[0..4]
 */
import { createHash } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import { wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import {
  assertRecipientKind,
  exportPrivateBytes,
  PrivateKey,
  type PublicKey,
  type RecipientKind,
} from '../keys/keys.ts';

const SHARE_VERSION = 0x01;
const SHARE_BODY = 40;
const SHARE_LENGTH = 44;
const PREFIX = 'COFFER-SHARE-';
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function base32Encode(bytes: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Decodes into a buffer of its own; on any error the bytes decoded so far are wiped. */
function base32Decode(text: string, length: number): Buffer {
  const out = Buffer.alloc(length);
  try {
    let bits = 0;
    let value = 0;
    let n = 0;
    for (const ch of text) {
      const digit = ALPHABET.indexOf(ch);
      if (digit < 0) throw new CryptoError('Malformed', `character "${ch}" is not in the share alphabet`);
      value = ((value << 5) | digit) & 0xffff;
      bits += 5;
      if (bits >= 8) {
        if (n >= length) throw new CryptoError('Malformed', 'share is too long');
        out[n++] = (value >>> (bits - 8)) & 0xff;
        bits -= 8;
      }
    }
    if (n !== length) throw new CryptoError('Truncated', 'share is too short');
    return out;
  } catch (err) {
    wipe(out);
    throw err;
  }
}

function checksum(body: Buffer): Buffer {
  return createHash('sha256').update('coffer/share/v1').update(body).digest().subarray(0, 4);
}

function setIdOf(publicKey: PublicKey<RecipientKind>): Buffer {
  return createHash('sha256').update(publicKey.bytes()).digest().subarray(0, 4);
}

export interface DecodedShare {
  readonly threshold: number;
  readonly count: number;
  readonly setId: string;
  readonly index: number;
  readonly share: Buffer;
}

export function encodeShare(threshold: number, count: number, setId: Buffer, share: Uint8Array): string {
  const body = Buffer.concat([Buffer.of(SHARE_VERSION, threshold, count), setId, share]);
  const text = base32Encode(Buffer.concat([body, checksum(body)]));
  wipe(body);
  return PREFIX + (text.match(/.{1,5}/g) as string[]).join('-');
}

/** Parse one printed share. Case, spaces and dashes are ignored; O reads as 0, I and L as 1. */
export function decodeShare(text: string): DecodedShare {
  const cleaned = text
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/^COFFERSHARE/, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  const bytes = base32Decode(cleaned, SHARE_LENGTH);
  try {
    const body = bytes.subarray(0, SHARE_BODY);
    if (!checksum(body).equals(bytes.subarray(SHARE_BODY))) {
      throw new CryptoError('ShareChecksumMismatch', 'share fails its checksum: a character is mistyped');
    }
    if (bytes[0] !== SHARE_VERSION) throw new CryptoError('UnsupportedVersion', `share version ${bytes[0]}`);
    const threshold = bytes[1] as number;
    const count = bytes[2] as number;
    if (threshold < 2 || count < threshold) throw new CryptoError('Malformed', `share claims ${threshold} of ${count}`);
    // x = 0 is where the secret itself sits on the polynomial; split() never hands out that point.
    const index = bytes[SHARE_BODY - 1] as number;
    if (index === 0) throw new CryptoError('Malformed', 'share has x coordinate 0');
    return {
      threshold,
      count,
      setId: body.subarray(3, 7).toString('hex'),
      index,
      share: Buffer.from(body.subarray(7)),
    };
  } finally {
    wipe(bytes);
  }
}

/** Split the recovery private key into `count` printable shares, any `threshold` of which rebuild it. */
export async function splitRecoveryKey(
  key: PrivateKey<RecipientKind>,
  count: number,
  threshold: number,
): Promise<string[]> {
  assertRecipientKind(key, 'recovery key');
  if (!Number.isInteger(threshold) || !Number.isInteger(count) || threshold < 2 || count < threshold || count > 255) {
    throw new CryptoError('WeakParameters', 'need 2 ≤ threshold ≤ shares ≤ 255');
  }
  const raw = exportPrivateBytes(key);
  // The library insists on plain Uint8Array (not Buffer).
  const secret = new Uint8Array(raw);
  try {
    const shares = await split(secret, count, threshold);
    const setId = setIdOf(key.publicKey);
    const texts = shares.map((s) => encodeShare(threshold, count, setId, s));
    wipe(...shares);
    return texts;
  } finally {
    wipe(raw, secret);
  }
}

/**
 * Rebuild the recovery key from printed shares and check it against the stored recovery public
 * key. `threshold` is the one stored with that key, not read from the shares: every share must
 * state it and the same share count, or it is refused. Errors name the offending share by its
 * position in `texts` (1-based).
 */
export async function combineRecoveryShares<K extends RecipientKind>(
  texts: readonly string[],
  expected: PublicKey<K>,
  threshold: number,
): Promise<PrivateKey<K>> {
  assertRecipientKind(expected, 'recovery public key');
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > 255) {
    throw new CryptoError('WeakParameters', 'need 2 ≤ threshold ≤ 255');
  }
  const decoded: DecodedShare[] = [];
  let plain: Uint8Array[] = [];
  try {
    texts.forEach((text, i) => {
      try {
        decoded.push(decodeShare(text));
      } catch (err) {
        if (err instanceof CryptoError) throw new CryptoError(err.code, `share ${i + 1}: ${err.message}`);
        throw err;
      }
    });
    const wantSet = setIdOf(expected).toString('hex');
    const count = decoded[0]?.count;
    decoded.forEach((d, i) => {
      if (d.setId !== wantSet) {
        throw new CryptoError('ShareSetMismatch', `share ${i + 1} belongs to another recovery key`);
      }
      if (d.threshold !== threshold) {
        throw new CryptoError('ShareSetMismatch', `share ${i + 1} says ${d.threshold} of ${d.count}, not ${threshold}`);
      }
      if (d.count !== count) throw new CryptoError('ShareSetMismatch', `share ${i + 1} names another share count`);
      if (decoded.findIndex((o) => o.index === d.index) !== i) {
        throw new CryptoError('ShareSetMismatch', `share ${i + 1} repeats an earlier share`);
      }
    });
    if (decoded.length < threshold) {
      throw new CryptoError('ShareSetMismatch', `need ${threshold} shares, got ${decoded.length}`);
    }
    // The library insists on plain Uint8Array (not Buffer).
    plain = decoded.map((d) => new Uint8Array(d.share));
    let combined: Uint8Array;
    try {
      combined = await combine(plain);
    } catch {
      // The checks above leave the library nothing to refuse; if it still does, say so by name.
      throw new CryptoError('ShareSetMismatch', 'shares do not combine');
    }
    const secret = Buffer.from(combined);
    wipe(combined);
    let key: PrivateKey<K>;
    try {
      // The kind is the stored recovery public key's, which the rebuilt key must then match.
      key = PrivateKey.fromBytes(expected.kind, secret);
    } catch {
      throw new CryptoError('RecoveryKeyMismatch', 'shares do not rebuild a usable key');
    } finally {
      wipe(secret);
    }
    if (!key.publicKey.equals(expected)) throw new CryptoError('RecoveryKeyMismatch');
    return key;
  } finally {
    wipe(...plain);
    for (const d of decoded) wipe(d.share);
  }
}
