/**
 * The signed revocation list, from the vault's side (issue 15, item 2), and the retirement of data
 * keys a revoked person could have opened (item 1). The vault stores each new list in the same
 * transaction as the revocation or reset it records, only if it is signed by the org key, counts
 * on from the newest stored one and keeps every earlier entry. The admin plane — not the vault —
 * is what a database writer cannot fool: it checks the list against the pinned trust root and the
 * counter it remembers outside the database before it wraps any key.
 */
import {
  isRevoked,
  namesRevocation,
  PublicKey,
  type RevocationList,
  revocationEntriesOf,
  revocationEntry,
  verifyRevocationList,
} from '@coffer/crypto';
import type { AdminRequest, SignedRevocations } from '@coffer/protocol';
import type postgres from 'postgres';
import { auditOrRefuse } from './records.ts';
import { AdminError, type AdminHandlers, type OpContext } from './router.ts';

type Sql = postgres.Sql | postgres.TransactionSql;

/** The newest stored list as stored (for the admin plane to check), or null before any. */
export async function latestRevocations(sql: Sql): Promise<SignedRevocations | null> {
  const [row] = await sql<{ list: unknown; signature: string }[]>`
    SELECT list, signature FROM revocation_lists ORDER BY counter DESC LIMIT 1`;
  return row ? { list: row.list, signature: row.signature } : null;
}

async function trustRootOf(sql: Sql): Promise<PublicKey<'ed25519'>> {
  const [org] = await sql<{ trust_root: string }[]>`SELECT trust_root FROM org`;
  if (!org) throw new AdminError('conflict', 'the vault is not initialised');
  return PublicKey.fromBase64url('ed25519', org.trust_root);
}

/** The newest stored list, verified against the stored trust root; null before any. */
export async function verifiedRevocations(sql: Sql, trustRoot: PublicKey<'ed25519'>): Promise<RevocationList | null> {
  const stored = await latestRevocations(sql);
  if (!stored) return null;
  try {
    return verifyRevocationList(trustRoot, stored.list, stored.signature);
  } catch {
    throw new AdminError('conflict', 'the stored revocation list does not verify under the trust root');
  }
}

/**
 * Store the next list inside a revoke or reset. When `must` (the revoked person, or the certified
 * key a reset retires) is given and a list exists, a next list naming it is required (an admin
 * plane that predates lists can revoke only until the first one is stored).
 */
export async function storeNextRevocations(
  tx: postgres.TransactionSql,
  next: SignedRevocations | undefined,
  must: { userId: string; publicKey: string | null } | null,
): Promise<number | null> {
  const trustRoot = await trustRootOf(tx);
  const previous = await verifiedRevocations(tx, trustRoot);
  if (!next) {
    if (previous && must) throw new AdminError('bad-request', 'a signed revocation list must come with this change');
    return null;
  }
  let list: RevocationList;
  try {
    list = verifyRevocationList(trustRoot, next.list, next.signature);
  } catch {
    throw new AdminError('bad-signature', 'the revocation list is not signed by the org key');
  }
  if (list.counter !== (previous?.counter ?? 0) + 1) {
    throw new AdminError('conflict', 'the revocation list does not follow the stored one; fetch it again');
  }
  // By fingerprint, so a v2 list that follows a v1 one keeps its entries (the keys fingerprinted).
  if (!revocationEntriesOf(previous).every((e) => namesRevocation(list, e))) {
    throw new AdminError('bad-request', 'the revocation list drops an earlier entry');
  }
  if (must && !namesRevocation(list, revocationEntry(must.userId, must.publicKey))) {
    throw new AdminError('bad-request', 'the revocation list does not name this change');
  }
  // Two revocations at once both build on the same list: the counter's key lets one in.
  const stored = await tx`INSERT INTO revocation_lists (counter, list, signature)
    VALUES (${list.counter}, ${tx.json(next.list as postgres.JSONValue)}, ${next.signature})
    ON CONFLICT (counter) DO NOTHING RETURNING counter`;
  if (!stored.length) throw new AdminError('conflict', 'another revocation went first; try again');
  return list.counter;
}

/**
 * Destroy every data key whose window has not begun (no record uses one yet): the revoked person
 * could have unwrapped them while signed in. Returns how many went.
 */
export async function retireFutureKeys(tx: postgres.TransactionSql, now: Date): Promise<number> {
  const future = await tx<{ id: string }[]>`
    SELECT id FROM data_keys d WHERE d.not_before > ${now}
      AND NOT EXISTS (SELECT 1 FROM records r WHERE r.data_key_id = d.id)
      AND NOT EXISTS (SELECT 1 FROM record_contexts c WHERE c.data_key_id = d.id) FOR UPDATE`;
  const ids = future.map((k) => k.id);
  if (!ids.length) return 0;
  await tx`DELETE FROM wrapped_keys WHERE key_kind = 'data' AND key_id = ANY(${ids})`;
  await tx`DELETE FROM data_keys WHERE id = ANY(${ids})`;
  return ids.length;
}

export function revocationHandlers(sql: postgres.Sql): Pick<AdminHandlers, 'revocations.restore'> {
  return { 'revocations.restore': (req, ctx) => restoreRevocations(sql, req, ctx) };
}

/**
 * Store a newer signed list than the stored one (after a backup restore rolled it back) and apply
 * it: a listed person is revoked again, a listed key cleared as a reset would, with their copies
 * and sessions gone. Checked like any list: signed, newer, and keeping every stored entry.
 */
async function restoreRevocations(
  sql: postgres.Sql,
  req: AdminRequest<'revocations.restore'>,
  { now, caller }: OpContext<'revocations.restore'>,
) {
  return sql.begin(async (tx) => {
    const trustRoot = await trustRootOf(tx);
    const previous = await verifiedRevocations(tx, trustRoot);
    let list: RevocationList;
    try {
      list = verifyRevocationList(trustRoot, req.revocations.list, req.revocations.signature);
    } catch {
      throw new AdminError('bad-signature', 'the revocation list is not signed by the org key');
    }
    if (list.counter <= (previous?.counter ?? 0)) throw new AdminError('conflict', 'the stored list is as new already');
    if (!revocationEntriesOf(previous).every((e) => namesRevocation(list, e))) {
      throw new AdminError('bad-request', 'the list drops a stored entry');
    }
    await tx`INSERT INTO revocation_lists (counter, list, signature)
      VALUES (${list.counter}, ${tx.json(req.revocations.list as postgres.JSONValue)}, ${req.revocations.signature})`;
    let applied = 0;
    for (const e of list.entries) {
      const listed = 'fingerprint' in e ? e.fingerprint : e.publicKey;
      // A v2 entry names the key by fingerprint: the stored key is reset only if it is the one listed.
      const [stored] =
        listed === null
          ? []
          : await tx<{ public_key: string | null }[]>`
        SELECT public_key FROM users WHERE id::text = ${e.userId}`;
      const publicKey = stored?.public_key ?? null;
      if (listed !== null && (publicKey === null || !isRevoked(list, e.userId, publicKey))) continue;
      const [user] =
        listed === null
          ? await tx`UPDATE users SET status = 'revoked', wrapped_private_key = NULL, password_verifier = NULL,
                totp_sealed = NULL, totp_pending = NULL, certificate_signature = NULL, public_key = NULL
              WHERE id::text = ${e.userId} AND status <> 'revoked' RETURNING id`
          : await tx`UPDATE users SET status = 'invited', wrapped_private_key = NULL, password_verifier = NULL,
                totp_sealed = NULL, totp_pending = NULL, certificate_signature = NULL, public_key = NULL
              WHERE id::text = ${e.userId} AND public_key = ${publicKey} RETURNING id`;
      if (!user) continue;
      applied++;
      await tx`DELETE FROM wrapped_keys WHERE recipient_kind = 'user' AND recipient_id = ${e.userId}`;
      await tx`DELETE FROM sessions WHERE user_id = ${user.id}`;
    }
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: 'revocations.restore',
        target: String(list.counter),
        outcome: 'success',
        origin: req.origin,
        details: { counter: list.counter, from: previous?.counter ?? 0, applied },
      },
      now,
    );
    return { counter: list.counter, applied };
  });
}
