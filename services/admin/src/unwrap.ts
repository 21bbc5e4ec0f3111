/**
 * Session-bound unwrapping, all in memory inside one request: token → session key → the user's
 * private key → a data key → the record. Nothing unwrapped outlives the request.
 */
import {
  deriveSessionKey,
  openRecord as openRecordBlob,
  type PrivateKey,
  parseRecordBlob,
  type RecipientKind,
  RecordOpeningContext,
  recipientKindOf,
  sessionKeyAad,
  unwrapWithSymmetricKey,
} from '@coffer/crypto';
import { type Holder, openDataKey } from '@coffer/keyring';
import type { SessionKeyMaterial } from '@coffer/protocol';

export function unwrapUserKey(token: string, material: SessionKeyMaterial): PrivateKey<'x25519'> {
  const sessionKey = deriveSessionKey(token, material.sessionId);
  try {
    return unwrapWithSymmetricKey(
      'x25519',
      sessionKey,
      Buffer.from(material.wrappedKey, 'base64'),
      sessionKeyAad(material.sessionId, material.userId),
    );
  } finally {
    sessionKey.destroy();
  }
}

/** The signed-in user as a key holder, for @coffer/keyring: their key, opened through the session. */
export function sessionHolder(token: string, material: SessionKeyMaterial): Holder {
  return { id: material.userId, key: unwrapUserKey(token, material) };
}

/**
 * A data key as the kind `suite` names — the suite of the record it is about to open, read from
 * that record's header (both suites are read here: an org's X25519 records stay readable after it
 * moves to X-Wing). A copy of another kind is WrongKeyKind, never tried as this one.
 */
export function unwrapDataKey(
  userKey: PrivateKey<RecipientKind>,
  userId: string,
  dataKeyId: string,
  wrapped: string,
  suite: RecipientKind,
): PrivateKey<RecipientKind> {
  return openDataKey({ id: userId, key: userKey }, { keyId: dataKeyId, wrapped }, suite);
}

/** The suite a stored record's blob names; UnsupportedSuite for one this build does not read. */
export function recordSuite(record: SealedRecord): RecipientKind {
  return recipientKindOf(parseRecordBlob(Buffer.from(record.sealed, 'base64'), ['x25519', 'xwing']).suite);
}

export interface SealedRecord {
  readonly id: string;
  readonly type: string;
  readonly dataKeyId: string;
  readonly sealed: string;
  /** The record context's enc (base64) for a version-2 blob; null or absent for version 1. */
  readonly contextEnc?: string | null;
}

/** Open one record's sealed value (one key agreement); the returned buffer is the caller's to wipe. */
export function openRecord(dataKey: PrivateKey<RecipientKind>, record: SealedRecord): Buffer {
  return openRecordBlob(dataKey, Buffer.from(record.sealed, 'base64'), {
    recordId: record.id,
    type: record.type,
    dataKeyId: record.dataKeyId,
    contextEnc: record.contextEnc ? Buffer.from(record.contextEnc, 'base64') : null,
  });
}

/**
 * Opens many records, as an export does: each record context is set up once (one key agreement)
 * and kept in a small cache, so every further record of it costs one AES-GCM open. Version-1
 * records still take one key agreement each. `destroy` wipes every cached context.
 */
export class RecordOpener {
  readonly #contexts = new Map<string, RecordOpeningContext>();
  readonly #limit: number;

  constructor(limit = 64) {
    this.#limit = limit;
  }

  open(dataKey: PrivateKey<RecipientKind>, record: SealedRecord): Buffer {
    const blob = Buffer.from(record.sealed, 'base64');
    const parsed = parseRecordBlob(blob, ['x25519', 'xwing']);
    if (parsed.version !== 2 || !record.contextEnc) return openRecord(dataKey, record);
    let context = this.#contexts.get(parsed.contextId);
    if (!context || context.dataKeyId !== record.dataKeyId) {
      context?.destroy();
      context = RecordOpeningContext.open(
        dataKey,
        parsed.contextId,
        record.dataKeyId,
        Buffer.from(record.contextEnc, 'base64'),
      );
      if (this.#contexts.size >= this.#limit) this.#evictOldest();
      this.#contexts.set(parsed.contextId, context);
    }
    return context.open(blob, record.id, record.type);
  }

  #evictOldest(): void {
    const [oldest] = this.#contexts;
    if (!oldest) return;
    oldest[1].destroy();
    this.#contexts.delete(oldest[0]);
  }

  destroy(): void {
    for (const context of this.#contexts.values()) context.destroy();
    this.#contexts.clear();
  }
}
