// Signed checkpoints against a database writer (issue 9 item 6), on a real PostgreSQL: deleting the
// tail, or rewriting an event and re-chaining the rest, still passes the bare chain walk but no
// longer matches the checkpoint; a checkpoint signed by another key is refused; normal operation
// verifies; and the vault signs nothing over a chain that stopped extending its last checkpoint.
import { createHash } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PrivateKey, signAuditCheckpoint } from '@coffer/crypto';
import { postgresAvailable } from '@coffer/testkit';
import type postgres from 'postgres';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rewriteAndRechain } from '../testing/audit-rows.ts';
import { createVaultDatabase, type VaultDatabase } from '../testing/vault-database.ts';
import { appendAudit, verifyAuditChain } from './audit.ts';
import {
  AuditCheckpointer,
  CHECKPOINT_FILE,
  readCheckpointFile,
  SIGNING_KEY_FILE,
  verifyAuditLog,
} from './audit-checkpoints.ts';

const available = await postgresAvailable();

async function addEvents(sql: postgres.Sql, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await sql.begin((tx) =>
      appendAudit(tx, { actor: 'u1', action: 'record.reveal', target: `r${i}`, outcome: 'success' }),
    );
  }
}

describe.skipIf(!available)('audit checkpoints: signed heads outside the database', () => {
  let db: VaultDatabase;
  let dir: string;
  let cp: AuditCheckpointer;
  const verify = (extra: { expectHead?: string; minEvents?: number } = {}) =>
    verifyAuditLog(db.runtime, { checkpoints: { file: cp.file, key: cp.publicKey }, ...extra });

  beforeEach(async () => {
    db = await createVaultDatabase();
    dir = await mkdtemp(path.join(os.tmpdir(), 'coffer-checkpoints-'));
    cp = await AuditCheckpointer.open(dir);
  });
  afterEach(async () => {
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('normal operation: checkpoints follow the head, and the log verifies against them', async () => {
    expect(await cp.checkpoint(db.runtime, new Date())).toEqual({ empty: true });
    expect(await verify()).toMatchObject({ ok: true, events: 0, checkpoint: { status: 'none' } });
    await addEvents(db.runtime, 5);
    const first = await cp.checkpoint(db.runtime, new Date());
    expect(first).toMatchObject({ written: { v: 1, seq: 5, key: cp.publicKey.toBase64url() } });
    expect(await cp.checkpoint(db.runtime, new Date())).toMatchObject({ unchanged: { seq: 5 } });
    await addEvents(db.runtime, 3);
    expect(await cp.checkpoint(db.runtime, new Date())).toMatchObject({ written: { seq: 8 } });
    const verdict = await verify();
    expect(verdict).toMatchObject({ ok: true, events: 8, checkpoint: { status: 'verified', checkpoint: { seq: 8 } } });
    // Events after the last checkpoint are fine: the log may only grow.
    await addEvents(db.runtime, 2);
    expect(await verify()).toMatchObject({ ok: true, events: 10, checkpoint: { status: 'verified' } });
    // The key and the file stay on this host, readable by the vault's user only; a reopen keeps the key.
    expect((await stat(path.join(dir, SIGNING_KEY_FILE))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, CHECKPOINT_FILE))).mode & 0o777).toBe(0o600);
    const reopened = await AuditCheckpointer.open(dir);
    expect(reopened.publicKey.equals(cp.publicKey)).toBe(true);
    expect(reopened.last).toMatchObject({ seq: 8 });
    expect((await readFile(cp.file, 'utf8')).trim().split('\n')).toHaveLength(2);
  });

  it('deleting the last events: the bare chain still verifies, the checkpoint names the truncation', async () => {
    await addEvents(db.runtime, 10);
    await cp.checkpoint(db.runtime, new Date());
    await db.owner`DELETE FROM audit_events WHERE seq > 7`;
    expect(await verifyAuditChain(db.runtime)).toMatchObject({ ok: true, events: 7 }); // today's check is fooled
    const verdict = await verify();
    expect(verdict).toMatchObject({ ok: false, events: 7, checkpoint: { status: 'truncated', events: 7 } });
    expect(verdict.checkpoint).toMatchObject({ checkpoint: { seq: 10 } });
    // Nor does the vault sign the shorter head, even after the log grows past the old length.
    expect(await cp.checkpoint(db.runtime, new Date())).toMatchObject({ refused: { checkpoint: { seq: 10 } } });
    await addEvents(db.runtime, 5);
    expect(await cp.checkpoint(db.runtime, new Date())).toMatchObject({ refused: { checkpoint: { seq: 10 } } });
    expect(await verify()).toMatchObject({ ok: false, checkpoint: { status: 'rewritten' } });
    expect((await readFile(cp.file, 'utf8')).trim().split('\n')).toHaveLength(1);
  });

  it('rewriting one event and re-chaining the rest: the chain verifies, the checkpoint does not match', async () => {
    await addEvents(db.runtime, 10);
    const written = await cp.checkpoint(db.runtime, new Date());
    await rewriteAndRechain(db.owner, 4, 'nothing to see');
    expect(await verifyAuditChain(db.runtime)).toMatchObject({ ok: true, events: 10 });
    const verdict = await verify();
    expect(verdict).toMatchObject({ ok: false, events: 10, checkpoint: { status: 'rewritten' } });
    if (verdict.checkpoint.status !== 'rewritten' || !('written' in written)) throw new Error('unexpected');
    expect(verdict.checkpoint.checkpoint.hash).toBe(written.written.hash);
    expect(verdict.checkpoint.found).toBe(verdict.head);
    expect(await cp.checkpoint(db.runtime, new Date())).toMatchObject({ refused: { brokenAt: 10 } });
  });

  it('refuses a checkpoint signed by another key, even one claiming the pinned key', async () => {
    await addEvents(db.runtime, 6);
    await cp.checkpoint(db.runtime, new Date());
    await db.owner`DELETE FROM audit_events WHERE seq > 3`;
    const [row] = await db.owner`SELECT hash FROM audit_events WHERE seq = 3`;
    // A writer who truncated the log makes a checkpoint for the new head with a key of their own.
    const mallory = PrivateKey.generate('ed25519');
    const forged = signAuditCheckpoint(mallory, {
      seq: 3,
      hash: row?.hash.toString('hex'),
      at: new Date().toISOString(),
    });
    await appendFile(
      cp.file,
      `${JSON.stringify(forged)}\n${JSON.stringify({ ...forged, key: cp.publicKey.toBase64url() })}\n`,
    );
    const verdict = await verify();
    expect(verdict).toMatchObject({ ok: false, checkpoint: { status: 'forged' } });
    if (verdict.checkpoint.status !== 'forged') throw new Error('unexpected');
    // Counted from the end of the file: the two lines after the last genuine checkpoint.
    expect(verdict.checkpoint.refused).toEqual([
      { line: 1, reason: 'BadSignature' },
      { line: 2, reason: 'BadSignature' },
    ]);
    // Read against the right key, the genuine line still says what happened.
    const reopened = await AuditCheckpointer.open(dir);
    expect(reopened.last).toMatchObject({ seq: 6 });
  });

  it('checks an expected head and a minimum count given from outside', async () => {
    await addEvents(db.runtime, 4);
    const head = (await verifyAuditChain(db.runtime)) as { head: string };
    await cp.checkpoint(db.runtime, new Date());
    await addEvents(db.runtime, 2);
    expect(await verify({ expectHead: head.head, minEvents: 6 })).toMatchObject({
      ok: true,
      expectedHead: { found: true },
      minEvents: { required: 6, met: true },
    });
    expect(await verify({ minEvents: 7 })).toMatchObject({ ok: false, minEvents: { met: false } });
    await rewriteAndRechain(db.owner, 2, 'rewritten');
    expect(await verify({ expectHead: head.head })).toMatchObject({ ok: false, expectedHead: { found: false } });
  });

  it('reads a long file from its end, across chunk boundaries, and stops at the newest genuine line', async () => {
    const key = PrivateKey.generate('ed25519');
    const at = new Date().toISOString();
    const lines = Array.from({ length: 1500 }, (_, i) =>
      JSON.stringify(
        signAuditCheckpoint(key, { seq: i + 1, hash: createHash('sha256').update(String(i)).digest('hex'), at }),
      ),
    );
    const file = path.join(dir, 'long.jsonl');
    await writeFile(file, `${lines.join('\n')}\n`); // ~400 KiB: several 64 KiB chunks
    // The newest line, exactly as signed (what the API hands out for safekeeping).
    expect(await readCheckpointFile(file, key.publicKey)).toEqual({
      latest: JSON.parse(lines.at(-1) as string),
      refused: [],
    });
    await appendFile(file, 'garbage\n');
    expect(await readCheckpointFile(file, key.publicKey)).toMatchObject({
      latest: { seq: 1500 },
      refused: [{ line: 1, reason: 'not JSON' }],
    });
    // 300 lines by another key after it (~80 KiB): the reader crosses chunk boundaries backwards.
    const other = PrivateKey.generate('ed25519');
    const forged = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify(signAuditCheckpoint(other, { seq: 2000 + i, hash: 'ab'.repeat(32), at })),
    );
    await appendFile(file, `${forged.join('\n')}\n`);
    const read = await readCheckpointFile(file, key.publicKey);
    expect(read.latest).toMatchObject({ seq: 1500 });
    expect(read.refused).toHaveLength(301);
    expect(read.refused.at(-1)).toEqual({ line: 301, reason: 'not JSON' });
    expect(await readCheckpointFile(path.join(dir, 'absent.jsonl'), key.publicKey)).toEqual({
      latest: undefined,
      refused: [],
    });
  });
});
