/**
 * Records sealed many to one HPKE context (sealed-blob version 2). One key agreement per context
 * instead of one per record: the sender sets up a context to a data key once, seals each record
 * with the next sequence number (RFC 9180 §5.2), and rolls the context after a bound. The
 * context's encapsulated key travels and is stored once, beside the context id; each record blob
 * names its context and sequence number.
 *
 *   offset  size  field
 *   0       1     format version (0x02)
 *   1       2     HPKE KEM id  (0x0020 DHKEM(X25519, HKDF-SHA256) or 0x647A X-Wing)
 *   3       2     HPKE KDF id  (0x0001 HKDF-SHA256)
 *   5       2     HPKE AEAD id (0x0002 AES-256-GCM)
 *   7       16    context id
 *   23      4     sequence number (unsigned, big-endian)
 *   27      n+16  ciphertext ‖ GCM tag
 *
 * Nothing in the header is trusted on its own: the context id and data key id are in the HPKE
 * info (so another context's key does not open it), the sequence number makes the nonce, and the
 * AAD is the record binding of version 1 (record id, type, data key id), so a record still cannot
 * be moved to another row, type or key. Version 1 blobs stay readable forever (openRecord).
 * The suite follows the data key's kind; the context's enc is 32 bytes (X25519) or 1120 (X-Wing),
 * and the suite is in the key schedule too, so a header relabelled to the other suite cannot open.
 */
import { randomUUID } from 'node:crypto';
import { recordBinding } from '../bindings.ts';
import { lengthPrefixed, utf8 } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import { type Context, recipientKindOf, type Suite, setupRecipient, setupSender, suiteFor } from '../hpke/hpke.ts';
import { assertRecipientKind, type PrivateKey, type PublicKey, type RecipientKind } from '../keys/keys.ts';
import { assertIdentityFor, headerSuite, open as openV1, parseSealedBlob, suiteHeader } from './sealed-blob.ts';

export const RECORD_CONTEXT_BLOB_VERSION = 0x02;
const HEADER_LENGTH = 7;
const CONTEXT_ID_LENGTH = 16;
const SEQUENCE_LENGTH = 4;
const PREFIX_LENGTH = HEADER_LENGTH + CONTEXT_ID_LENGTH + SEQUENCE_LENGTH;
const TAG_LENGTH = 16;
/** Bytes a version-2 record blob adds to its plaintext (the context's enc, 32 or 1120 bytes, is stored once). */
export const RECORD_CONTEXT_BLOB_OVERHEAD = PREFIX_LENGTH + TAG_LENGTH;
/** The largest sequence number the format can carry. */
export const MAX_CONTEXT_SEQUENCE = 2 ** 32 - 1;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function contextIdBytes(contextId: string): Buffer {
  if (!UUID.test(contextId)) throw new CryptoError('Malformed', 'context id is not a lowercase UUID');
  return Buffer.from(contextId.replaceAll('-', ''), 'hex');
}

function contextIdString(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** HPKE info of a record context: its kind, its id and the data key it seals to. */
function contextInfo(contextId: string, dataKeyId: string): Buffer {
  return lengthPrefixed('coffer/record-context/v2', contextIdBytes(contextId), utf8(dataKeyId));
}

export type ParsedRecordBlob =
  | { readonly version: 1; readonly suite: Suite; readonly enc: Buffer; readonly ciphertext: Buffer }
  | {
      readonly version: 2;
      readonly suite: Suite;
      readonly contextId: string;
      readonly sequence: number;
      readonly ciphertext: Buffer;
    };

/**
 * The header of a record blob of either version, checked as far as it can be without a key:
 * version, suite, lengths. Ingest and the vault use it to refuse a malformed blob early. `accept`
 * names the suites (by key kind) the caller stores or opens, X25519 alone unless it says more: a
 * blob of another suite is UnsupportedSuite, so a service not yet wired for X-Wing refuses such
 * blobs as it did before X-Wing existed.
 */
export function parseRecordBlob(blob: Uint8Array, accept: readonly RecipientKind[] = ['x25519']): ParsedRecordBlob {
  const parsed = readRecordBlob(blob);
  if (!accept.includes(recipientKindOf(parsed.suite))) {
    throw new CryptoError('UnsupportedSuite', `a ${recipientKindOf(parsed.suite)} record blob is not accepted here`);
  }
  return parsed;
}

/** parseRecordBlob for every suite this build reads; the key kind is checked by the caller. */
function readRecordBlob(blob: Uint8Array): ParsedRecordBlob {
  const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (bytes.length < 1) throw new CryptoError('Truncated', 'sealed blob is empty');
  if (bytes[0] !== RECORD_CONTEXT_BLOB_VERSION) {
    const v1 = parseSealedBlob(bytes);
    return { version: 1, suite: v1.suite, enc: v1.enc, ciphertext: v1.ciphertext };
  }
  if (bytes.length < HEADER_LENGTH) throw new CryptoError('Truncated', 'sealed blob header is cut short');
  const suite = headerSuite(bytes);
  if (bytes.length < RECORD_CONTEXT_BLOB_OVERHEAD) throw new CryptoError('Truncated', 'sealed blob is cut short');
  return {
    version: 2,
    suite,
    contextId: contextIdString(bytes.subarray(HEADER_LENGTH, HEADER_LENGTH + CONTEXT_ID_LENGTH)),
    sequence: bytes.readUInt32BE(HEADER_LENGTH + CONTEXT_ID_LENGTH),
    ciphertext: bytes.subarray(PREFIX_LENGTH),
  };
}

/**
 * The sender's side: one context to one data key, sealing records in sequence until `maxRecords`
 * (then ContextExhausted: the caller opens a new one). Whoever holds this object can open every
 * record it sealed, so a caller keeps it briefly (ingest rolls it within a second) and destroys it.
 */
export class RecordSealingContext {
  readonly contextId: string;
  readonly dataKeyId: string;
  /** The suite this context seals with, named in each record's header (from the data key's kind). */
  readonly suite: Suite;
  readonly #enc: Buffer;
  readonly #context: Context;
  readonly #maxRecords: number;
  readonly #prefix: Buffer;

  private constructor(
    contextId: string,
    dataKeyId: string,
    suite: Suite,
    enc: Buffer,
    context: Context,
    maxRecords: number,
  ) {
    this.contextId = contextId;
    this.dataKeyId = dataKeyId;
    this.suite = suite;
    this.#enc = enc;
    this.#context = context;
    this.#maxRecords = maxRecords;
    this.#prefix = Buffer.concat([
      suiteHeader(RECORD_CONTEXT_BLOB_VERSION, suite),
      contextIdBytes(contextId),
      Buffer.alloc(SEQUENCE_LENGTH),
    ]);
  }

  /**
   * A fresh context (new encapsulation, new random id) to `recipient`, the data key `dataKeyId`:
   * DHKEM(X25519) for an x25519 data key, X-Wing for an xwing one.
   */
  static create(recipient: PublicKey<RecipientKind>, dataKeyId: string, maxRecords = 4096): RecordSealingContext {
    assertRecipientKind(recipient, 'recipient');
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 1 || maxRecords > MAX_CONTEXT_SEQUENCE + 1) {
      throw new CryptoError('InvalidParameters', 'maxRecords must be 1 … 2^32');
    }
    const contextId = randomUUID();
    const suite = suiteFor(recipient.kind);
    const { enc, context } = setupSender(suite, recipient, contextInfo(contextId, dataKeyId));
    return new RecordSealingContext(contextId, dataKeyId, suite, enc, context, maxRecords);
  }

  /** The context's encapsulated key (public): stored once, beside the context id. */
  get enc(): Buffer {
    return Buffer.from(this.#enc);
  }

  /** Records sealed so far; the next one gets this sequence number. */
  get sealedCount(): number {
    return this.#context.sequence;
  }

  get exhausted(): boolean {
    return this.#context.sequence >= this.#maxRecords;
  }

  /** Seal one record's normalised value, bound to its id and type. */
  seal(recordId: string, type: string, plaintext: Uint8Array): Buffer {
    if (this.exhausted) throw new CryptoError('ContextExhausted');
    const sequence = this.#context.sequence;
    const aad = recordBinding(recordId, type, this.dataKeyId).aad;
    const ciphertext = this.#context.seal(aad, plaintext);
    const prefix = Buffer.from(this.#prefix);
    prefix.writeUInt32BE(sequence, HEADER_LENGTH + CONTEXT_ID_LENGTH);
    return Buffer.concat([prefix, ciphertext]);
  }

  destroy(): void {
    this.#context.destroy();
  }
}

/**
 * The recipient's side of one context: one key agreement, then any number of records of that
 * context opened with AES-GCM alone, in any order. An export keeps a few of these per export.
 */
export class RecordOpeningContext {
  readonly contextId: string;
  readonly dataKeyId: string;
  readonly suite: Suite;
  readonly #context: Context;
  /** The first bytes every record of this context starts with: version, suite ids, context id. */
  readonly #header: Buffer;
  /** The data key id's field of the record AAD (u16 length ‖ UTF-8), the same for every record. */
  readonly #keyField: Buffer;

  private constructor(contextId: string, dataKeyId: string, suite: Suite, context: Context) {
    this.contextId = contextId;
    this.dataKeyId = dataKeyId;
    this.suite = suite;
    this.#context = context;
    this.#header = Buffer.concat([suiteHeader(RECORD_CONTEXT_BLOB_VERSION, suite), contextIdBytes(contextId)]);
    this.#keyField = lengthPrefixed(dataKeyId);
  }

  /**
   * Set up the context `contextId` (its stored `enc`) with the data key's private half; the suite
   * follows the key's kind, and records naming another suite are refused (ContextMismatch).
   */
  static open(
    identity: PrivateKey<RecipientKind>,
    contextId: string,
    dataKeyId: string,
    enc: Uint8Array,
  ): RecordOpeningContext {
    assertRecipientKind(identity, 'identity');
    const suite = suiteFor(identity.kind);
    const context = setupRecipient(suite, enc, identity, contextInfo(contextId, dataKeyId));
    return new RecordOpeningContext(contextId, dataKeyId, suite, context);
  }

  /** Open one version-2 record of this context; the whole plaintext or a CryptoError. */
  open(blob: Uint8Array, recordId: string, type: string): Buffer {
    const bytes = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
    const header = this.#header;
    // An export opens thousands of records per context: a byte compare of the header stands for
    // parsing it (the same version, suite and context id), and the AAD is built in one buffer.
    if (
      bytes.length < RECORD_CONTEXT_BLOB_OVERHEAD ||
      bytes.compare(header, 0, header.length, 0, header.length) !== 0
    ) {
      // Refused as before, with the same error: the parse names what is wrong.
      const parsed = readRecordBlob(blob);
      if (parsed.version !== 2 || parsed.contextId !== this.contextId || parsed.suite !== this.suite) {
        throw new CryptoError('ContextMismatch', 'record was not sealed under this context');
      }
    }
    const sequence = bytes.readUInt32BE(HEADER_LENGTH + CONTEXT_ID_LENGTH);
    return this.#context.openAt(sequence, recordAad(recordId, type, this.#keyField), bytes.subarray(PREFIX_LENGTH));
  }

  destroy(): void {
    this.#context.destroy();
  }
}

/**
 * recordBinding(recordId, type, dataKeyId).aad, with the data key id's field made once: the
 * same bytes (record-context.test.ts compares them), one allocation instead of seven.
 */
function recordAad(recordId: string, type: string, keyField: Buffer): Buffer {
  const idLength = Buffer.byteLength(recordId);
  const typeLength = Buffer.byteLength(type);
  if (idLength > 0xffff || typeLength > 0xffff) return recordBinding(recordId, type, '').aad; // throws Malformed
  const aad = Buffer.allocUnsafe(4 + idLength + typeLength + keyField.length);
  let at = aad.writeUInt16BE(idLength, 0);
  at += aad.write(recordId, at, 'utf8');
  at = aad.writeUInt16BE(typeLength, at);
  at += aad.write(type, at, 'utf8');
  keyField.copy(aad, at);
  return aad;
}

/** @internal recordAad for tests: the AAD an opening context builds for one record. */
export function recordAadForTests(recordId: string, type: string, dataKeyId: string): Buffer {
  return recordAad(recordId, type, lengthPrefixed(dataKeyId));
}

/** What a record is bound to, and for version 2 the stored key of its context. */
export interface RecordToOpen {
  readonly recordId: string;
  readonly type: string;
  readonly dataKeyId: string;
  /** The context's encapsulated key; required for version-2 blobs, ignored for version 1. */
  readonly contextEnc?: Uint8Array | null;
}

/**
 * Open one record blob of any version: version 1 by its own enc, version 2 by its context's
 * (one key agreement either way: the single-record path a reveal takes).
 */
export function openRecord(identity: PrivateKey<RecipientKind>, blob: Uint8Array, record: RecordToOpen): Buffer {
  assertRecipientKind(identity, 'identity');
  const parsed = readRecordBlob(blob);
  // The blob names its suite; a data key of the other kind is refused by name, never tried.
  assertIdentityFor(parsed.suite, identity);
  if (parsed.version === 1)
    return openV1(identity, blob, recordBinding(record.recordId, record.type, record.dataKeyId));
  if (!record.contextEnc) throw new CryptoError('ContextMismatch', 'a version-2 record needs its context key');
  const context = RecordOpeningContext.open(identity, parsed.contextId, record.dataKeyId, record.contextEnc);
  try {
    return context.open(blob, record.recordId, record.type);
  } finally {
    context.destroy();
  }
}
