/**
 * Session-bound unwrapping, all in memory inside one request: token → session key → the user's
 * private key → a data key → the record. Nothing unwrapped outlives the request.
 */
import {
  deriveSessionKey,
  openRecord as openRecordBlob,
  type PrivateKey,
  parseRecordBlob,
  RECORD_CONTEXT_BLOB_VERSION,
  type RecipientKind,
  RecordOpeningContext,
  recipientKindOf,
  sessionKeyAad,
  unwrapWithSymmetricKey,
  wrapWithSymmetricKey,
} from '@coffer/crypto';
import { type Holder, openDataKey, USER_KEY_KINDS } from '@coffer/keyring';
import type { SessionKeyMaterial } from '@coffer/protocol';

export function unwrapUserKey(token: string, material: SessionKeyMaterial): PrivateKey<RecipientKind> {
  const sessionKey = deriveSessionKey(token, material.sessionId);
  try {
    return unwrapWithSymmetricKey(
      USER_KEY_KINDS,
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
 * Opens a session: the user's key wrapped under the key derived from the new session's token
 * (base64), as the vault stores it and `unwrapUserKey` opens it again.
 */
export function wrapForSession(userKey: PrivateKey, token: string, sessionId: string, userId: string): string {
  const sessionKey = deriveSessionKey(token, sessionId);
  try {
    return wrapWithSymmetricKey(userKey, sessionKey, sessionKeyAad(sessionId, userId)).toString('base64');
  } finally {
    sessionKey.destroy();
  }
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
export function recordSuite(record: { readonly sealed: string | Buffer }): RecipientKind {
  const sealed = typeof record.sealed === 'string' ? Buffer.from(record.sealed, 'base64') : record.sealed;
  return recipientKindOf(parseRecordBlob(sealed, ['x25519', 'xwing']).suite);
}

export interface SealedRecord {
  readonly id: string;
  readonly type: string;
  readonly dataKeyId: string;
  readonly sealed: string;
  /** The record context's enc (base64) for a version-2 blob; null or absent for version 1. */
  readonly contextEnc?: string | null;
}

/** A sealed record as bytes: the blob and, for version 2, its context's encapsulated key. */
export interface SealedRecordBytes {
  readonly id: string;
  readonly type: string;
  readonly dataKeyId: string;
  readonly sealed: Buffer;
  readonly contextEnc: Buffer | null;
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
  readonly #contexts = new Map<string, { context: RecordOpeningContext; enc: Buffer }>();
  readonly #limit: number;

  constructor(limit = 64) {
    this.#limit = limit;
  }

  open(dataKey: PrivateKey<RecipientKind>, record: SealedRecord): Buffer {
    return this.openBytes(dataKey, {
      id: record.id,
      type: record.type,
      dataKeyId: record.dataKeyId,
      sealed: Buffer.from(record.sealed, 'base64'),
      contextEnc: record.contextEnc ? Buffer.from(record.contextEnc, 'base64') : null,
    });
  }

  /** `open` for a record whose blob and context key are bytes already (the binary export page). */
  openBytes(dataKey: PrivateKey<RecipientKind>, record: SealedRecordBytes): Buffer {
    const { sealed, contextEnc } = record;
    const binding = { recordId: record.id, type: record.type, dataKeyId: record.dataKeyId, contextEnc };
    if (sealed[0] !== RECORD_CONTEXT_BLOB_VERSION || !contextEnc) return openRecordBlob(dataKey, sealed, binding);
    // Keyed by the context id's raw bytes in the header: no parsing or formatting per record. The
    // context itself checks each blob's header (version, suite, context id) before opening it.
    const key = sealed.toString('latin1', 7, 23);
    let entry = this.#contexts.get(key);
    // The same id with another enc is another context (a forged one is kept beside the genuine one,
    // migration 012); records of one page's context share one enc buffer, so this is a pointer check.
    const sameEnc = entry && (entry.enc === contextEnc || entry.enc.equals(contextEnc));
    if (!entry || !sameEnc || entry.context.dataKeyId !== record.dataKeyId) {
      const parsed = parseRecordBlob(sealed, ['x25519', 'xwing']);
      if (parsed.version !== 2) return openRecordBlob(dataKey, sealed, binding);
      entry?.context.destroy();
      if (!entry && this.#contexts.size >= this.#limit) this.#evictOldest();
      entry = {
        context: RecordOpeningContext.open(dataKey, parsed.contextId, record.dataKeyId, contextEnc),
        enc: contextEnc,
      };
      this.#contexts.set(key, entry);
    }
    return entry.context.open(sealed, record.id, record.type);
  }

  #evictOldest(): void {
    const [oldest] = this.#contexts;
    if (!oldest) return;
    oldest[1].context.destroy();
    this.#contexts.delete(oldest[0]);
  }

  destroy(): void {
    for (const { context } of this.#contexts.values()) context.destroy();
    this.#contexts.clear();
  }
}
