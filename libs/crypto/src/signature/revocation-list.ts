/**
 * A signed revocation list (issue 15, item 2): every person revoked and every key retired by a
 * reset, signed by the org key with a counter that only grows. The admin plane checks it against
 * the pinned trust root and the highest counter it remembers (outside the database) before it
 * wraps any key to anyone, so a database writer can neither restore a revoked person's old row
 * nor roll the list back to a version without them unnoticed.
 *
 * Format v2 (docs/crypto.md), written from 2026-12-02: Ed25519 by the org key over
 *   lengthPrefixed("coffer/revocation-list/v2", counter, issuedAt, n, userId₁, fingerprint₁, …)
 * where fingerprint is the revoked key's PublicKey.fingerprint() (it names the key kind), the 30
 * digits without spaces: an X-Wing key is 1,622 base64url characters, so v1's whole keys let a
 * list of a few hundred resets outgrow one bus message.
 * Format v1, still read: the same over "coffer/revocation-list/v1" with the whole publicKey
 * (base64url) in place of the fingerprint.
 * counter is a decimal integer ≥ 1; issuedAt ISO 8601 UTC with milliseconds; entries sorted by
 * (userId, key) without duplicates; "" stands for null: every key of that user.
 */
import { lengthPrefixed } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import type { PrivateKey, PublicKey } from '../keys/keys.ts';
import { signedStatement } from './signed-statement.ts';
import { recipientPublicKey } from './user-certificate.ts';

export const REVOCATION_LIST_LABEL = 'coffer/revocation-list/v2';
export const REVOCATION_LIST_LABEL_V1 = 'coffer/revocation-list/v1';
/** Bounded so a list always fits in one bus message (with v2's fingerprints; tested). */
export const REVOCATION_LIST_MAX_ENTRIES = 4096;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const FINGERPRINT = /^[0-9]{30}$/;

/** A v2 entry: the revoked key's fingerprint (30 digits), or null: every key of the person. */
export interface RevocationEntry {
  readonly userId: string;
  readonly fingerprint: string | null;
}

/** A v1 entry (read, never written now): the revoked key (base64url), or null. */
export interface RevocationEntryV1 {
  readonly userId: string;
  readonly publicKey: string | null;
}

interface ListOf<V extends 1 | 2, E> {
  readonly v: V;
  readonly counter: number;
  readonly issuedAt: string;
  readonly entries: readonly E[];
}
export type RevocationListV1 = ListOf<1, RevocationEntryV1>;
export type RevocationListV2 = ListOf<2, RevocationEntry>;
export type RevocationList = RevocationListV1 | RevocationListV2;

/** The fingerprint a v2 entry names `publicKey` (an X25519 or X-Wing key, base64url) by. */
export function revokedKeyFingerprint(publicKey: string): string {
  return recipientPublicKey(publicKey).fingerprint().replace(/\s+/g, '');
}

const fingerprintOrNull = (publicKey: string): string | null => {
  try {
    return revokedKeyFingerprint(publicKey);
  } catch {
    return null;
  }
};

/** The v2 entry revoking `publicKey` of this user, or the user (null). */
export function revocationEntry(userId: string, publicKey: string | null): RevocationEntry {
  return { userId, fingerprint: publicKey === null ? null : revokedKeyFingerprint(publicKey) };
}

/** A list's entries as v2 entries (a v1 list's keys fingerprinted): what the next list carries on. */
export function revocationEntriesOf(list: RevocationList | null): RevocationEntry[] {
  if (!list) return [];
  if (list.v === 2) return [...list.entries];
  return list.entries.map((e) => revocationEntry(e.userId, e.publicKey));
}

const keyOf = (e: RevocationEntry | RevocationEntryV1) => ('fingerprint' in e ? e.fingerprint : e.publicKey);
const entryOrder = (e: RevocationEntry | RevocationEntryV1) => `${e.userId}\u0000${keyOf(e) ?? ''}`;

/** Entries sorted as the format requires, duplicates dropped. */
export function sortRevocationEntries<E extends RevocationEntry | RevocationEntryV1>(entries: readonly E[]): E[] {
  const byKey = new Map(entries.map((e) => [entryOrder(e), { ...e }]));
  return [...byKey.keys()].sort().map((k) => byKey.get(k) as E);
}

const bad = (why: string): never => {
  throw new CryptoError('InvalidBundle', `revocation list: ${why}`);
};

function readEntry(v: 1 | 2, e: unknown): RevocationEntry | RevocationEntryV1 {
  if (typeof e !== 'object' || e === null) return bad('entry is not an object');
  const field = v === 2 ? 'fingerprint' : 'publicKey';
  const { userId, [field]: key, ...rest } = e as Record<string, unknown>;
  if (Object.keys(rest).length || key === undefined) bad('entry has unexpected fields');
  if (typeof userId !== 'string' || userId.length < 1 || userId.length > 64) bad('userId must be 1–64 characters');
  if (v === 2 && key !== null && (typeof key !== 'string' || !FINGERPRINT.test(key))) {
    bad('fingerprint must be 30 digits or null');
  }
  if (v === 1 && key !== null && (typeof key !== 'string' || key.length < 1 || key.length > 2048)) {
    bad('publicKey must be a string or null');
  }
  return v === 2
    ? { userId: userId as string, fingerprint: key as string | null }
    : { userId: userId as string, publicKey: key as string | null };
}

function canonicalRevocationList(value: unknown): { read: RevocationList; bytes: Buffer } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('not an object');
  const o = value as Record<string, unknown>;
  if (Object.keys(o).sort().join(',') !== 'counter,entries,issuedAt,v') return bad('unexpected fields');
  const { v, counter, issuedAt, entries } = o;
  if (v !== 1 && v !== 2) return bad('unknown version');
  if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 1) bad('counter must be ≥ 1');
  if (typeof issuedAt !== 'string' || !ISO_UTC.test(issuedAt)) bad('issuedAt must be ISO 8601 UTC');
  if (!Array.isArray(entries) || entries.length > REVOCATION_LIST_MAX_ENTRIES) return bad('too many entries');
  const read = entries.map((e: unknown) => readEntry(v, e));
  for (let i = 1; i < read.length; i++) {
    if (entryOrder(read[i - 1] as RevocationEntry) >= entryOrder(read[i] as RevocationEntry)) {
      bad('entries must be sorted, without duplicates');
    }
  }
  const list = { v, counter: counter as number, issuedAt: issuedAt as string, entries: read } as RevocationList;
  const bytes = lengthPrefixed(
    v === 2 ? REVOCATION_LIST_LABEL : REVOCATION_LIST_LABEL_V1,
    String(list.counter),
    list.issuedAt,
    String(read.length),
    ...read.flatMap((e) => [e.userId, keyOf(e) ?? '']),
  );
  return { read: list, bytes };
}

const revocationLists = signedStatement(canonicalRevocationList);

/** Signs `list` in its own version; the admin plane builds v2 lists only (nextRevocationList). */
export function signRevocationList(orgKey: PrivateKey<'ed25519'>, list: RevocationList): string {
  return revocationLists.sign(orgKey, list);
}

/** The list (v1 or v2), read once, if `signature` verifies under the trust root; else BadSignature/InvalidBundle. */
export function verifyRevocationList(
  trustRoot: PublicKey<'ed25519'>,
  list: unknown,
  signature: string,
): RevocationList {
  return revocationLists.verify(trustRoot, list, signature);
}

/**
 * Whether `list` revokes this user, or this key of theirs. Either version compares by the
 * candidate key's fingerprint; a v1 entry's key is fingerprinted too (and, when it is no key this
 * build reads, compared as the text v1 signed).
 */
export function isRevoked(list: RevocationList | null, userId: string, publicKey: string | null): boolean {
  const mine: (RevocationEntry | RevocationEntryV1)[] = (list?.entries ?? []).filter((e) => e.userId === userId);
  if (mine.some((e) => keyOf(e) === null)) return true;
  if (publicKey === null || mine.length === 0) return false;
  const candidate = fingerprintOrNull(publicKey);
  return mine.some((e) => {
    if ('fingerprint' in e) return candidate !== null && e.fingerprint === candidate;
    const listed = e.publicKey as string;
    return listed === publicKey || (candidate !== null && fingerprintOrNull(listed) === candidate);
  });
}

/** Whether `list` names `entry` (the same user and fingerprint), whichever version it is. */
export function namesRevocation(list: RevocationList, entry: RevocationEntry): boolean {
  return list.entries.some((e) => {
    if (e.userId !== entry.userId) return false;
    const key = keyOf(e);
    if (key === null || entry.fingerprint === null) return key === entry.fingerprint;
    return 'fingerprint' in e ? key === entry.fingerprint : fingerprintOrNull(key) === entry.fingerprint;
  });
}
