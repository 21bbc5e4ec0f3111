/**
 * Planting decoy records (issue 16, item 3). The admin plane made the values and sealed them, in a
 * key-admin's session, exactly as ingest seals (a record context of the data key); here they are
 * stored like ingest's records — same columns, hint source, retention — dated at the submission
 * time the admin plane picked (in the past, inside the data key's window, so planted decoys do not
 * line up at the top of the list), and tagged in decoy_tags under the vault's decoy key.
 */
import { CryptoError, parseRecordBlob } from '@coffer/crypto';
import { hintFits, type RecordType } from '@coffer/protocol';
import type postgres from 'postgres';
import type { Decoys } from '../decoys.ts';
import type { Retention } from '../store-records.ts';
import { auditOrRefuse } from './records.ts';
import { AdminError, type AdminHandlers } from './router.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export function decoyHandlers(
  sql: postgres.Sql,
  decoys: Decoys,
  retention: Retention = {},
): Pick<AdminHandlers, 'decoys.plant'> {
  return {
    'decoys.plant': async (req, { now, caller }) => {
      if (!decoys.configured)
        throw new AdminError('conflict', 'decoys are off: the vault has no COFFER_DECOY_KEY_FILE');
      const keyIds = [...new Set(req.records.map((r) => r.keyId))];
      const keys = await sql<{ id: string; not_before: Date; not_after: Date }[]>`
        SELECT id, not_before, not_after FROM data_keys WHERE id = ANY(${keyIds})`;
      const windows = new Map(keys.map((k) => [k.id, k]));
      const rows = req.records.map((r) => {
        const at = new Date(r.submittedAt);
        const key = windows.get(r.keyId);
        if (!key) throw new AdminError('bad-request', 'a decoy is sealed to an unknown data key');
        if (at > now || at < key.not_before || at >= key.not_after) {
          throw new AdminError(
            'bad-request',
            "a decoy's submission time is outside its data key's window or later than now",
          );
        }
        if (!hintFits(r.type, r.hint)) throw new AdminError('bad-request', 'a hint does not fit its record type');
        const sealed = Buffer.from(r.sealed, 'base64');
        let blob: ReturnType<typeof parseRecordBlob>;
        try {
          blob = parseRecordBlob(sealed);
        } catch (err) {
          if (!(err instanceof CryptoError)) throw err;
          throw new AdminError('bad-request', 'a decoy is not a record blob');
        }
        if (blob.version !== 2 || blob.contextId !== r.contextId) {
          throw new AdminError('bad-request', 'a decoy must be sealed under its record context, as ingest seals');
        }
        const enc = Buffer.from(r.contextEnc, 'base64');
        if (enc.length !== 32) throw new AdminError('bad-request', 'a record context enc is 32 bytes');
        const days = retention[r.type as RecordType];
        const expires = days ? new Date(at.getTime() + days * DAY_MS) : null;
        return { r, at, sealed, enc, expires: expires && !Number.isNaN(expires.getTime()) ? expires : null };
      });
      await sql
        .begin(async (tx) => {
          for (const { r, at, sealed, enc, expires } of rows) {
            await tx`INSERT INTO record_contexts (id, data_key_id, enc, created_at)
            VALUES (${r.contextId}, ${r.keyId}, ${enc}, ${at})`;
            await tx`INSERT INTO records
              (id, type, data_key_id, context_id, sealed, hint, hint_source, submitted_at, stored_at, expires_at)
            VALUES (${r.id}, ${r.type}, ${r.keyId}, ${r.contextId}, ${sealed}, ${r.hint}, 'ingest', ${at}, ${at},
                    ${expires})`;
            await tx`INSERT INTO decoy_tags (tag) VALUES (${decoys.tag(r.id)})`;
          }
          // How many and which types, never which records: auditors read this too.
          const types = [...new Set(req.records.map((r) => r.type))].sort().join(',');
          await auditOrRefuse(
            tx,
            {
              actor: caller.userId,
              action: 'decoy.plant',
              outcome: 'success',
              origin: req.origin,
              details: { count: rows.length, types },
            },
            now,
          );
        })
        .catch((err) => {
          if ((err as { code?: string }).code === '23505')
            throw new AdminError('conflict', 'a record with this id exists');
          throw err;
        });
      return { planted: rows.length };
    },
  };
}
