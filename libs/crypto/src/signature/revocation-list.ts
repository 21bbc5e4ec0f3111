/**
 * A signed revocation list (issue 15, item 2): every person revoked and every key retired by a
 * reset, signed by the org key with a counter that only grows. The admin plane checks it against
 * the pinned trust root and the highest counter it remembers (outside the database) before it
 * wraps any key to anyone, so a database writer can neither restore a revoked person's old row
 * nor roll the list back to a version without them unnoticed.
 *
 * Format v1 (docs/crypto.md): Ed25519 by the org key over
 *   lengthPrefixed("coffer/revocation-list/v1", counter, issuedAt, n, userId₁, publicKey₁, …)
 * counter is a decimal integer ≥ 1; issuedAt ISO 8601 UTC with milliseconds; entries sorted by
 * (userId, publicKey) without duplicates; publicKey "" stands for null: every key of that user.
 */
import { lengthPrefixed } from '../bytes.ts';
import { CryptoError } from '../errors.ts';
import type { PrivateKey, PublicKey } from '../keys/keys.ts';
import { signedStatement } from './signed-statement.ts';

export const REVOCATION_LIST_LABEL = 'coffer/revocation-list/v1';
/** Bounded so a list always fits in one bus message. */
export const REVOCATION_LIST_MAX_ENTRIES = 4096;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export interface RevocationEntry {
  readonly userId: string;
  /** The revoked key (base64url), or null: the person is revoked, every key of theirs. */
  readonly publicKey: string | null;
}

export interface RevocationList {
  readonly v: 1;
  readonly counter: number;
  readonly issuedAt: string;
  readonly entries: readonly RevocationEntry[];
}

const entryOrder = (e: RevocationEntry) => `${e.userId}\u0000${e.publicKey ?? ''}`;

/** Entries sorted as the format requires, duplicates dropped. */
export function sortRevocationEntries(entries: readonly RevocationEntry[]): RevocationEntry[] {
  const byKey = new Map(entries.map((e) => [entryOrder(e), { userId: e.userId, publicKey: e.publicKey }]));
  return [...byKey.keys()].sort().map((k) => byKey.get(k) as RevocationEntry);
}

function canonicalRevocationList(value: unknown): { read: RevocationList; bytes: Buffer } {
  const bad = (why: string): never => {
    throw new CryptoError('InvalidBundle', `revocation list: ${why}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('not an object');
  const o = value as Record<string, unknown>;
  if (Object.keys(o).sort().join(',') !== 'counter,entries,issuedAt,v') return bad('unexpected fields');
  const { v, counter, issuedAt, entries } = o;
  if (v !== 1) return bad('unknown version');
  if (typeof counter !== 'number' || !Number.isSafeInteger(counter) || counter < 1) bad('counter must be ≥ 1');
  if (typeof issuedAt !== 'string' || !ISO_UTC.test(issuedAt)) bad('issuedAt must be ISO 8601 UTC');
  if (!Array.isArray(entries) || entries.length > REVOCATION_LIST_MAX_ENTRIES) return bad('too many entries');
  const read: RevocationEntry[] = entries.map((e: unknown) => {
    if (typeof e !== 'object' || e === null) return bad('entry is not an object');
    const { userId, publicKey, ...rest } = e as Record<string, unknown>;
    if (Object.keys(rest).length) bad('entry has unexpected fields');
    if (typeof userId !== 'string' || userId.length < 1 || userId.length > 64) bad('userId must be 1–64 characters');
    if (publicKey !== null && (typeof publicKey !== 'string' || publicKey.length < 1 || publicKey.length > 2048)) {
      bad('publicKey must be a string or null');
    }
    return { userId: userId as string, publicKey: publicKey as string | null };
  });
  for (let i = 1; i < read.length; i++) {
    if (entryOrder(read[i - 1] as RevocationEntry) >= entryOrder(read[i] as RevocationEntry)) {
      bad('entries must be sorted, without duplicates');
    }
  }
  const list: RevocationList = { v: 1, counter: counter as number, issuedAt: issuedAt as string, entries: read };
  const fields = read.flatMap((e) => [e.userId, e.publicKey ?? '']);
  const bytes = lengthPrefixed(
    REVOCATION_LIST_LABEL,
    String(list.counter),
    list.issuedAt,
    String(read.length),
    ...fields,
  );
  return { read: list, bytes };
}

const revocationLists = signedStatement(canonicalRevocationList);

export function signRevocationList(orgKey: PrivateKey<'ed25519'>, list: RevocationList): string {
  return revocationLists.sign(orgKey, list);
}

/** The list, read once, if `signature` verifies under the trust root; else BadSignature/InvalidBundle. */
export function verifyRevocationList(
  trustRoot: PublicKey<'ed25519'>,
  list: unknown,
  signature: string,
): RevocationList {
  return revocationLists.verify(trustRoot, list, signature);
}

/** Whether `list` revokes this user, or this key of theirs. */
export function isRevoked(list: RevocationList | null, userId: string, publicKey: string | null): boolean {
  return (list?.entries ?? []).some((e) => e.userId === userId && (e.publicKey === null || e.publicKey === publicKey));
}
