/**
 * Audit rows as a superuser sees them: a stored event's hash recomputed from its columns, written
 * here rather than taken from the vault's eventHash so that the tests that check the vault's
 * chain do not share its code; and the rewrite-and-re-chain that only the signed checkpoints catch.
 */
import { createHash } from 'node:crypto';
import type postgres from 'postgres';
import { canonicalJson } from '../src/audit.ts';

/** sha256(prev || canonical JSON of the row's hashed columns), as verifyAuditChain computes it. */
export function storedRowHash(prev: Buffer, row: postgres.Row): Buffer {
  const canonical = canonicalJson({
    seq: Number(row.seq),
    at: row.at.toISOString(),
    actor: row.actor,
    action: row.action,
    target: row.target,
    reason: row.reason,
    outcome: row.outcome,
    origin: row.origin,
    details: row.details,
  });
  return createHash('sha256').update(prev).update(canonical).digest();
}

/** What a superuser can do: change event `seq`'s reason and recompute every later hash and link. */
export async function rewriteAndRechain(owner: postgres.Sql, seq: number, reason: string): Promise<void> {
  await owner`UPDATE audit_events SET reason = ${reason} WHERE seq = ${seq}`;
  const rows = await owner`SELECT * FROM audit_events WHERE seq >= ${seq} ORDER BY seq`;
  let prev: Buffer = rows[0]?.prev_hash;
  for (const row of rows) {
    const hash = storedRowHash(prev, row);
    await owner`UPDATE audit_events SET prev_hash = ${prev}, hash = ${hash} WHERE seq = ${row.seq}`;
    prev = hash;
  }
}
