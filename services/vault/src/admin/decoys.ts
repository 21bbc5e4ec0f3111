/**
 * Planting decoy records (issue 16, item 3). The vault makes them itself — values that pass every
 * check of their type, sealed to the data key that covers now under a record context exactly as
 * ingest seals (the vault needs only the public key) — so the request and reply on the bus name a
 * type and a count, never a record or a value: a bus operator cannot learn which records are
 * decoys. Each is stored like ingest's records (same columns, hint source, retention), dated at a
 * random earlier time inside the key's window (planted decoys do not line up at the top of the
 * list; stored_at and the context's created_at are that time too), and tagged in decoy_tags.
 */
import { createHash, randomInt } from 'node:crypto';
import { PublicKey, RecordSealingContext } from '@coffer/crypto';
import { type RecordType, recordIdAt } from '@coffer/protocol';
import type postgres from 'postgres';
import { decoyValue, hintOf } from '../decoy-values.ts';
import type { Decoys } from '../decoys.ts';
import type { Retention } from '../store-records.ts';
import { auditOrRefuse } from './records.ts';
import { AdminError, type AdminHandlers } from './router.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

interface DecoyRow {
  id: string;
  type: RecordType;
  keyId: string;
  contextId: string;
  enc: Buffer;
  sealed: Buffer;
  hint: string | null;
  at: Date;
  /** When "the vault stored it": a little after `at`, as a record's group commit and store take. */
  storedAt: Date;
  expires: Date | null;
}

function makeDecoy(
  type: RecordType,
  key: { id: string; public_key: string; suite: string | null },
  at: number,
  storedAt: number,
  retention: Retention,
) {
  const id = recordIdAt(at);
  // Sealed in the key's own suite, as ingest seals (X-Wing for an X-Wing org's keys).
  const kind = key.suite === 'xwing' ? 'xwing' : 'x25519';
  const context = RecordSealingContext.create(PublicKey.fromBase64url(kind, key.public_key), key.id);
  const value = decoyValue(type);
  const plaintext = Buffer.from(value);
  try {
    const sealed = Buffer.from(context.seal(id, type, plaintext));
    const days = retention[type];
    const expires = days ? new Date(at + days * DAY_MS) : null;
    return {
      id,
      type,
      keyId: key.id,
      contextId: context.contextId,
      enc: Buffer.from(context.enc),
      sealed,
      hint: hintOf(type, value),
      at: new Date(at),
      storedAt: new Date(storedAt),
      expires: expires && !Number.isNaN(expires.getTime()) ? expires : null,
    } satisfies DecoyRow;
  } finally {
    plaintext.fill(0);
    context.destroy();
  }
}

export function decoyHandlers(
  sql: postgres.Sql,
  decoys: Decoys,
  retention: Retention = {},
): Pick<AdminHandlers, 'decoys.plant'> {
  return {
    'decoys.plant': async (req, { now, caller }) => {
      if (!decoys.configured)
        throw new AdminError('conflict', 'decoys are off: the vault has no COFFER_DECOY_KEY_FILE');
      // The key ingest seals to now: covering now and not superseded by a rotation.
      const [key] = await sql<{ id: string; public_key: string; not_before: Date; suite: string | null }[]>`
        SELECT id, public_key, not_before, bundle->>'suite' AS suite FROM data_keys
        WHERE not_before <= ${now} AND ${now} < not_after AND retired_at IS NULL
        ORDER BY not_before DESC LIMIT 1`;
      if (!key) throw new AdminError('conflict', 'no data key covers now');
      const earliest = Math.max(key.not_before.getTime(), now.getTime() - req.spreadDays * DAY_MS);
      const span = Math.max(1, now.getTime() - earliest);
      const rows = Array.from({ length: req.count }, () => {
        // Stored a little after it was "submitted", as a record's group commit and store take, and
        // never after now: an export started a moment later caps at its start and must see it.
        const gap = 3 + randomInt(400);
        const storedAt = Math.min(now.getTime(), earliest + gap + randomInt(Math.max(1, span - gap)));
        return makeDecoy(req.type, key, storedAt - gap, storedAt, retention);
      });
      await sql.begin(async (tx) => {
        for (const r of rows) {
          // Stored as the vault stores ingest's records: both context tables, the enc's digest.
          const encSha256 = createHash('sha256').update(r.enc).digest();
          await tx`INSERT INTO record_contexts (id, data_key_id, enc, created_at)
            VALUES (${r.contextId}, ${r.keyId}, ${r.enc}, ${r.storedAt})`;
          await tx`INSERT INTO record_context_encs (context_id, enc_sha256, data_key_id, enc, created_at)
            VALUES (${r.contextId}, ${encSha256}, ${r.keyId}, ${r.enc}, ${r.storedAt})`;
          await tx`INSERT INTO records
              (id, type, data_key_id, context_id, context_enc_sha256, sealed, hint, hint_source, submitted_at,
               stored_at, expires_at)
            VALUES (${r.id}, ${r.type}, ${r.keyId}, ${r.contextId}, ${encSha256}, ${r.sealed}, ${r.hint}, 'ingest',
                    ${r.at}, ${r.storedAt}, ${r.expires})`;
          await tx`INSERT INTO decoy_tags (tag) VALUES (${decoys.tag(r.id)})`;
        }
        // How many and of which type, never which records: auditors read this too.
        await auditOrRefuse(
          tx,
          {
            actor: caller.userId,
            action: 'decoy.plant',
            outcome: 'success',
            origin: req.origin,
            details: { count: rows.length, type: req.type },
          },
          now,
        );
      });
      return { planted: rows.length };
    },
  };
}
