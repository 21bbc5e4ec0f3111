/** The sequenced context of RFC 9180 §5.2: one AEAD key, a base nonce and a sequence number. */
import { aesGcmDecrypt, aesGcmEncrypt, GCM_NONCE_LENGTH } from '../aead/aes-gcm.ts';
import { wipe } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import type { KeySchedule } from './key-schedule.ts';

/**
 * A sequenced HPKE context (RFC 9180 §5.2). Wrapped keys and v1 record blobs use one message per
 * context; v2 record blobs seal many records under one context (record-context.ts).
 */
export class Context {
  #seq = 0;
  readonly #key: Buffer;
  readonly #baseNonce: Buffer;

  /** Takes ownership of the schedule's key and base nonce (wiped by destroy) and wipes the rest. */
  constructor(schedule: KeySchedule) {
    this.#key = schedule.key;
    this.#baseNonce = schedule.baseNonce;
    wipe(schedule.secret, schedule.exporterSecret);
  }

  /** The sequence number the next seal or open uses. */
  get sequence(): number {
    return this.#seq;
  }

  // ComputeNonce(seq) of RFC 9180 §5.2. The first nonce equals the base nonce, so nonces get
  // memory of their own and are wiped after use.
  #nonceFor(sequence: number): Buffer {
    if (!Number.isSafeInteger(sequence) || sequence < 0) {
      throw new CryptoError('Malformed', `not an unsigned integer of ${GCM_NONCE_LENGTH} bytes`);
    }
    // base_nonce XOR I2OSP(seq, Nn), one byte at a time from the end: no second buffer per record.
    const nonce = Buffer.from(this.#baseNonce);
    let rest = sequence;
    for (let i = GCM_NONCE_LENGTH - 1; rest > 0; i--) {
      nonce[i] = (nonce[i] as number) ^ (rest & 0xff);
      rest = Math.floor(rest / 256);
    }
    return nonce;
  }

  #nextNonce(): Buffer {
    const nonce = this.#nonceFor(this.#seq);
    this.#seq += 1;
    return nonce;
  }

  /**
   * Open the message sealed at `sequence`, without touching the context's own sequence. A sender's
   * context seals in order, but a store reads the records of one context in any order (a reveal
   * reads one); the nonce is ComputeNonce(seq) as in §5.2, so this is the same open at that
   * position. The caller must never open two different ciphertexts as one sequence number's
   * authentic message; GCM's tag already refuses any but the one sealed there.
   */
  openAt(sequence: number, aad: Uint8Array, ciphertext: Uint8Array): Buffer {
    const nonce = this.#nonceFor(sequence);
    try {
      return aesGcmDecrypt(this.#key, nonce, ciphertext, aad);
    } finally {
      wipe(nonce);
    }
  }

  seal(aad: Uint8Array, plaintext: Uint8Array): Buffer {
    const nonce = this.#nextNonce();
    try {
      return aesGcmEncrypt(this.#key, nonce, plaintext, aad);
    } finally {
      wipe(nonce);
    }
  }

  open(aad: Uint8Array, ciphertext: Uint8Array): Buffer {
    const nonce = this.#nextNonce();
    try {
      return aesGcmDecrypt(this.#key, nonce, ciphertext, aad);
    } catch (err) {
      this.#seq -= 1; // RFC 9180 §5.2: a failed open does not advance the sequence
      throw err;
    } finally {
      wipe(nonce);
    }
  }

  destroy(): void {
    wipe(this.#key, this.#baseNonce);
  }
}
