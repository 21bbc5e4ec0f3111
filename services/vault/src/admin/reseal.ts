/**
 * `coffer reseal` from the vault's side (issue 15, item 3): a key-admin's session moves every
 * record of chosen data keys to the current key, in batches, and once no record uses an old key
 * that key is destroyed with its wrapped copies and record contexts — crypto-shredding stays
 * exact. The vault never sees a value: the admin plane opens and re-seals; the vault swaps the
 * blobs, only for records still sealed to the run's old keys. A run lives in `reseal_runs`, so an
 * interrupted one resumes where it stopped; it is audited when it begins and, with counts, when
 * it ends.
 */
import { createHash } from 'node:crypto';
import { PublicKey, verifyResealStore } from '@coffer/crypto';
import { type AdminRequest, newRecordId } from '@coffer/protocol';
import type postgres from 'postgres';
import { auditOrRefuse, sessionMaterial } from './records.ts';
import { AdminError, type AdminHandlers, type OpContext } from './router.ts';
import { receivedRequestDigest } from './signin-integrity.ts';

type ResealOps = 'reseal.begin' | 'reseal.material' | 'reseal.store';

export function resealHandlers(sql: postgres.Sql, onKeysChanged: () => Promise<void>): Pick<AdminHandlers, ResealOps> {
  return {
    'reseal.begin': (req, ctx) => begin(sql, req, ctx),
    'reseal.material': (req, ctx) => material(sql, req, ctx),
    'reseal.store': async (req, ctx) => {
      const stored = await store(sql, req, ctx);
      if (stored.destroyedKeys) await onKeysChanged();
      return stored;
    },
  };
}

/** How long after a key stopped being current (window ended, or superseded) it may be re-sealed from. */
export const SETTLE_MS = 10 * 60 * 1000;

/** The key new records are sealed to: covering now, not superseded. */
async function currentKey(sql: postgres.Sql | postgres.TransactionSql, now: Date) {
  const [row] = await sql<{ id: string; bundle: unknown; signature: string }[]>`
    SELECT id, bundle, signature FROM data_keys
    WHERE not_before <= ${now} AND ${now} < not_after AND retired_at IS NULL ORDER BY not_before DESC LIMIT 1`;
  if (!row) throw new AdminError('conflict', 'no data key is current: pre-generate first');
  return row;
}

const remainingOf = async (sql: postgres.Sql | postgres.TransactionSql, keys: readonly string[]) =>
  Number((await sql<{ n: string }[]>`SELECT count(*) AS n FROM records WHERE data_key_id = ANY(${keys})`)[0]?.n ?? 0);

async function begin(sql: postgres.Sql, req: AdminRequest<'reseal.begin'>, { now, caller }: OpContext<'reseal.begin'>) {
  const current = await currentKey(sql, now);
  const keys = await chosenKeys(sql, req, current);
  if (keys.includes(current.id)) throw new AdminError('conflict', 'the current data key cannot be re-sealed from');
  const known = await sql<{ id: string; settled: boolean }[]>`
    SELECT id, COALESCE(retired_at, not_after) <= ${new Date(now.getTime() - SETTLE_MS)} AS settled
    FROM data_keys WHERE id = ANY(${keys})`;
  if (known.length !== keys.length) throw new AdminError('not-found', 'no such data key');
  // A key is destroyed at the end of a run: records still on their way to it (ingest seals to a
  // superseded key until its next refresh; the stream may hold some longer) would arrive to a key
  // nobody holds and be lost. So only keys that stopped receiving records a while ago.
  if (known.some((k) => !k.settled)) {
    throw new AdminError(
      'conflict',
      'a data key may still receive records: re-seal it once its window ended 10 min ago',
    );
  }
  return sql.begin(async (tx) => {
    const [open] = await tx<{ id: string }[]>`SELECT id FROM reseal_runs
      WHERE finished_at IS NULL AND from_keys = ${keys} ORDER BY started_at LIMIT 1 FOR UPDATE`;
    const remaining = await remainingOf(tx, keys);
    if (open) return { runId: open.id, remaining };
    const id = newRecordId();
    await tx`INSERT INTO reseal_runs (id, from_keys, started_by, started_at)
      VALUES (${id}, ${keys}, ${caller.userId}, ${now})`;
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: 'reseal.begin',
        target: id,
        outcome: 'success',
        origin: req.origin,
        details: { fromKeys: keys.join(','), toKey: current.id, records: remaining },
      },
      now,
    );
    return { runId: id, remaining };
  });
}

/**
 * The keys named, and with `suite` every other key of that suite (a bundle without a suite field is
 * X25519). By suite, the current key must be of another one: rotate into the new suite first.
 */
async function chosenKeys(
  sql: postgres.Sql,
  req: AdminRequest<'reseal.begin'>,
  current: { id: string; bundle: unknown },
): Promise<string[]> {
  const keys = new Set(req.keyIds);
  if (req.suite) {
    const currentSuite = (current.bundle as { suite?: string }).suite ?? 'x25519';
    if (currentSuite === req.suite) {
      throw new AdminError('conflict', `the current data key is ${req.suite}: rotate to a key of the new suite first`);
    }
    const rows = await sql<{ id: string }[]>`
      SELECT id FROM data_keys WHERE COALESCE(bundle->>'suite', 'x25519') = ${req.suite}`;
    for (const r of rows) keys.add(r.id);
  }
  if (keys.size === 0) throw new AdminError('not-found', 'no data key to re-seal from');
  return [...keys].sort();
}

async function openRun(sql: postgres.Sql | postgres.TransactionSql, runId: string, lock = false) {
  const [run] = lock
    ? await sql<{ from_keys: string[]; moved: number }[]>`
        SELECT from_keys, moved FROM reseal_runs WHERE id::text = ${runId} AND finished_at IS NULL FOR UPDATE`
    : await sql<{ from_keys: string[]; moved: number }[]>`
        SELECT from_keys, moved FROM reseal_runs WHERE id::text = ${runId} AND finished_at IS NULL`;
  if (!run) throw new AdminError('not-found', 'no such unfinished re-seal run');
  return run;
}

async function material(
  sql: postgres.Sql,
  req: AdminRequest<'reseal.material'>,
  { now, caller }: OpContext<'reseal.material'>,
) {
  const run = await openRun(sql, req.runId);
  const current = await currentKey(sql, now);
  const rows = await sql<
    { id: string; type: 'pan' | 'ssn' | 'secret'; data_key_id: string; sealed: Buffer; enc: Buffer | null }[]
  >`
    SELECT r.id, r.type, r.data_key_id, r.sealed, COALESCE(ce.enc, c.enc) AS enc FROM records r
    LEFT JOIN record_contexts c ON c.id = r.context_id
    -- migration 012: the exact context the record was sealed under (records before it: c.enc)
    LEFT JOIN record_context_encs ce ON ce.context_id = r.context_id AND ce.enc_sha256 = r.context_enc_sha256
    WHERE r.data_key_id = ANY(${run.from_keys}) ORDER BY r.id LIMIT ${req.limit}`;
  const copies = await sql<{ key_id: string; wrapped: Buffer }[]>`
    SELECT key_id, wrapped FROM wrapped_keys WHERE key_kind = 'data' AND recipient_kind = 'user'
      AND recipient_id = ${caller.userId} AND key_id = ANY(${run.from_keys})`;
  if (rows.length && copies.length !== run.from_keys.length) {
    throw new AdminError('no-access', 'this key-admin holds no copy of one of the keys to re-seal from');
  }
  const [org] = await sql<{ org_key_id: string; wrapped: Buffer }[]>`
    SELECT o.org_key_id, w.wrapped FROM org o
    JOIN wrapped_keys w ON w.key_kind = 'org' AND w.key_id = o.org_key_id
      AND w.recipient_kind = 'user' AND w.recipient_id = ${caller.userId}`;
  if (!org) throw new AdminError('no-access', 'this key-admin holds no copy of the org key');
  return {
    orgKeyId: org.org_key_id,
    orgKey: org.wrapped.toString('base64'),
    toKey: { bundle: current.bundle as never, signature: current.signature },
    records: rows.map((r) => ({
      id: r.id,
      type: r.type,
      dataKeyId: r.data_key_id,
      sealed: r.sealed.toString('base64'),
      contextEnc: r.enc?.toString('base64') ?? null,
    })),
    wrappedDataKeys: Object.fromEntries(copies.map((c) => [c.key_id, c.wrapped.toString('base64')])),
    session: sessionMaterial(caller),
  };
}

async function store(sql: postgres.Sql, req: AdminRequest<'reseal.store'>, { now, caller }: OpContext<'reseal.store'>) {
  return sql.begin(async (tx) => {
    await requireOrgSignature(tx, req);
    const run = await openRun(tx, req.runId, true);
    const current = await currentKey(tx, now);
    if (current.id !== req.toKeyId) throw new AdminError('conflict', 'the current data key changed; fetch again');
    let moved = 0;
    if (req.records.length) {
      const enc = Buffer.from(req.context.enc, 'base64');
      const encSha256 = createHash('sha256').update(enc).digest();
      // In both context tables, and each record names the enc's digest, as ingest's records (012).
      await tx`INSERT INTO record_contexts (id, data_key_id, enc) VALUES (${req.context.id}, ${current.id}, ${enc})`;
      await tx`INSERT INTO record_context_encs (context_id, enc_sha256, data_key_id, enc)
        VALUES (${req.context.id}, ${encSha256}, ${current.id}, ${enc})`;
      const batch = req.records.map((r) => [r.id, Buffer.from(r.sealed, 'base64')]);
      // One statement per batch; only a record still sealed to the run's old keys: a batch sent
      // twice moves nothing twice.
      const updated = await tx`UPDATE records r SET data_key_id = ${current.id}, sealed = v.sealed,
          context_id = ${req.context.id}, context_enc_sha256 = ${encSha256}
        FROM (VALUES ${tx(batch as never)}) AS v (id, sealed)
        WHERE r.id::text = v.id AND r.data_key_id = ANY(${run.from_keys})`;
      moved = updated.count;
    }
    const total = run.moved + moved;
    await tx`UPDATE reseal_runs SET moved = ${total} WHERE id::text = ${req.runId}`;
    const remaining = await remainingOf(tx, run.from_keys);
    if (remaining > 0) return { moved, remaining, done: false, destroyedKeys: 0 };
    const destroyedKeys = await destroyUnused(tx, run.from_keys);
    await tx`UPDATE reseal_runs SET finished_at = ${now} WHERE id::text = ${req.runId}`;
    await auditOrRefuse(
      tx,
      {
        actor: caller.userId,
        action: 'reseal',
        target: req.runId,
        outcome: 'success',
        origin: req.origin,
        details: { fromKeys: run.from_keys.join(','), toKey: current.id, records: total, destroyedKeys },
      },
      now,
    );
    return { moved, remaining: 0, done: true, destroyedKeys };
  });
}

/** The batch must be signed by the org key over its digest: the session hash alone is not enough. */
async function requireOrgSignature(tx: postgres.TransactionSql, req: AdminRequest<'reseal.store'>): Promise<void> {
  const [org] = await tx<{ trust_root: string }[]>`SELECT trust_root FROM org`;
  if (!org) throw new AdminError('conflict', 'the vault is not initialised');
  const trustRoot = PublicKey.fromBase64url('ed25519', org.trust_root);
  if (!req.proof || !verifyResealStore(trustRoot, receivedRequestDigest('reseal.store', req), req.proof)) {
    throw new AdminError('bad-signature', 'the re-seal batch is not signed by the org key');
  }
}

/** Destroy the keys no record uses any more, with their copies and record contexts. */
async function destroyUnused(tx: postgres.TransactionSql, keys: readonly string[]): Promise<number> {
  await tx`DELETE FROM record_contexts c WHERE c.data_key_id = ANY(${keys})
    AND NOT EXISTS (SELECT 1 FROM records r WHERE r.context_id = c.id)`;
  await tx`DELETE FROM record_context_encs c WHERE c.data_key_id = ANY(${keys})
    AND NOT EXISTS (SELECT 1 FROM records r WHERE r.context_id = c.context_id AND r.data_key_id = c.data_key_id)`;
  await tx`DELETE FROM wrapped_keys WHERE key_kind = 'data' AND key_id = ANY(${keys})
    AND NOT EXISTS (SELECT 1 FROM records r WHERE r.data_key_id = wrapped_keys.key_id)`;
  const gone = await tx`DELETE FROM data_keys d WHERE d.id = ANY(${keys})
    AND NOT EXISTS (SELECT 1 FROM records r WHERE r.data_key_id = d.id)
    AND NOT EXISTS (SELECT 1 FROM record_contexts c WHERE c.data_key_id = d.id) RETURNING id`;
  return gone.length;
}
