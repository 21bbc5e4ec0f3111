// The array literals store-insert.ts builds by hand: every value must reach its column exactly,
// including the ones an array literal would misread unquoted (a comma, a quote, a backslash,
// braces, spaces, the word NULL), and a row stored twice is stored once.
import { randomBytes } from 'node:crypto';
import { newRecordId } from '@coffer/protocol';
import { postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultDatabase, type VaultDatabase } from '../testing/vault-database.ts';
import type { Row } from './record-parse.ts';
import { insertRows } from './store-insert.ts';

const available = await postgresAvailable();

describe.skipIf(!available)('inserting records as column arrays', () => {
  let db: VaultDatabase;
  const awkward = ['k "1",\\ {x} y', 'NULL', 'null', ''];
  beforeAll(async () => {
    db = await createVaultDatabase();
    for (const id of awkward) {
      await db.owner`INSERT INTO data_keys (id, public_key, not_before, not_after, bundle, signature)
        VALUES (${id}, 'k', now() - interval '1 day', now() + interval '1 day', '{}', 's')`;
    }
  });
  afterAll(() => db?.drop());

  const row = (dataKeyId: string, overrides: Partial<Row> = {}): Row => ({
    id: newRecordId(),
    type: 'pan',
    data_key_id: dataKeyId,
    context_id: null,
    context_enc_sha256: null,
    sealed: randomBytes(200),
    hint: '1234',
    hint_source: 'ingest',
    submitted_at: new Date(Date.now() - 1000).toISOString(),
    expires_at: null,
    payload: () => Buffer.alloc(0),
    suite: 'x25519',
    ...overrides,
  });

  it('stores each value exactly, whatever an array literal would make of it', async () => {
    const rows = [
      ...awkward.map((k) => row(k)),
      row(awkward[0] as string, {
        hint: null,
        hint_source: 'client',
        type: 'secret',
        sealed: Buffer.from('\\x{},"NULL" \u0000\u00ff'),
        expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      }),
    ].sort((a, b) => (a.id < b.id ? -1 : 1));
    expect((await insertRows(db.owner, rows)).count).toBe(rows.length);
    const stored = await db.owner<
      {
        id: string;
        type: string;
        data_key_id: string;
        sealed: Buffer;
        hint: string | null;
        hint_source: string;
        submitted_at: Date;
        expires_at: Date | null;
        context_id: string | null;
        context_enc_sha256: Buffer | null;
      }[]
    >`SELECT id::text, type, data_key_id, sealed, hint, hint_source, submitted_at, expires_at, context_id::text,
        context_enc_sha256 FROM records WHERE id = ANY(${rows.map((r) => r.id)}::uuid[]) ORDER BY id`;
    expect(stored).toHaveLength(rows.length);
    for (const [i, s] of stored.entries()) {
      const r = rows[i] as Row;
      expect(s.id).toBe(r.id);
      expect(s.type).toBe(r.type);
      expect(s.data_key_id).toBe(r.data_key_id);
      expect(Buffer.compare(s.sealed, r.sealed)).toBe(0);
      expect(s.hint).toBe(r.hint);
      expect(s.hint_source).toBe(r.hint_source);
      expect(s.submitted_at.toISOString()).toBe(r.submitted_at);
      expect(s.expires_at?.toISOString() ?? null).toBe(r.expires_at);
      expect(s.context_id).toBeNull();
      expect(s.context_enc_sha256).toBeNull();
    }
  });

  it('stores a context and its digest, and a row stored again is a no-op', async () => {
    const contextId = newRecordId();
    const enc = randomBytes(32);
    const digest = randomBytes(32);
    await db.owner`INSERT INTO record_contexts (id, data_key_id, enc) VALUES (${contextId}, 'NULL', ${enc})`;
    const r = row('NULL', { context_id: contextId, context_enc_sha256: digest });
    expect((await insertRows(db.owner, [r])).count).toBe(1);
    expect((await insertRows(db.owner, [r])).count).toBe(0);
    const [stored] = await db.owner<{ context_id: string; context_enc_sha256: Buffer }[]>`
      SELECT context_id::text, context_enc_sha256 FROM records WHERE id = ${r.id}`;
    expect(stored?.context_id).toBe(contextId);
    expect(Buffer.compare(stored?.context_enc_sha256 ?? Buffer.alloc(0), digest)).toBe(0);
  });
});
