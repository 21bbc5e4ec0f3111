import { postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultDatabase, type VaultDatabase } from '../testing/vault-database.ts';
import { appendAudit, canonicalJson, lockAuditHead, verifyAuditChain } from './audit.ts';

const available = await postgresAvailable();

describe('canonical JSON', () => {
  it('sorts keys at every level, whatever the input order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    );
  });
});

describe.skipIf(!available)('audit chain', () => {
  let db: VaultDatabase;
  beforeAll(async () => {
    db = await createVaultDatabase();
    for (let i = 0; i < 20; i++) {
      await db.runtime.begin((tx) =>
        appendAudit(tx, {
          actor: `user-${i % 3}`,
          action: 'record.reveal',
          target: `r-${i}`,
          reason: 'ticket 42',
          outcome: 'success',
          details: { n: i, z: 'last', a: 'first' },
        }),
      );
    }
  });
  afterAll(() => db?.drop());

  it('verifies from genesis to head', async () => {
    const verdict = await verifyAuditChain(db.runtime);
    expect(verdict).toMatchObject({ ok: true, events: 20 });
  });

  it('keeps a linear chain under concurrent appends', async () => {
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        db.runtime.begin((tx) =>
          appendAudit(tx, { actor: 'c', action: 'concurrent', target: String(i), outcome: 'success' }),
        ),
      ),
    );
    expect(await verifyAuditChain(db.runtime)).toMatchObject({ ok: true, events: 30 });
  });

  it('names the first edited row when a superuser tampers with it', async () => {
    await db.owner`UPDATE audit_events SET reason = 'nothing to see' WHERE seq = 7`;
    expect(await verifyAuditChain(db.runtime)).toEqual({ ok: false, brokenAt: 7, events: 6 });
    await db.owner`UPDATE audit_events SET reason = 'ticket 42' WHERE seq = 7`;
    expect(await verifyAuditChain(db.runtime)).toMatchObject({ ok: true });
  });

  it('names the gap when a superuser deletes a row', async () => {
    await db.owner`DELETE FROM audit_events WHERE seq = 12`;
    expect(await verifyAuditChain(db.runtime)).toEqual({ ok: false, brokenAt: 12, events: 11 });
  });
});

describe.skipIf(!available)('audit text that UTF-8 cannot hold', () => {
  it('stores and hashes a lone surrogate as U+FFFD, so the chain still verifies', async () => {
    const db = await createVaultDatabase();
    try {
      await db.runtime.begin((tx) =>
        appendAudit(tx, {
          actor: 'a',
          action: 'signin',
          target: 'nobody\ud800@example.com',
          reason: '\udfff',
          outcome: 'failure',
          details: { k: 'x\ud800' },
        }),
      );
      expect(await verifyAuditChain(db.runtime)).toMatchObject({ ok: true, events: 1 });
      const [row] = await db.runtime`SELECT target FROM audit_events`;
      expect(row?.target).toBe('nobody\ufffd@example.com');
    } finally {
      await db.drop();
    }
  });
});

describe.skipIf(!available)('the chain head read beside other work (lockAuditHead)', () => {
  it('keeps the chain linear when each transaction starts its head early, beside its own reads', async () => {
    const db = await createVaultDatabase();
    try {
      // As a reveal does: the lock and the head read go out with another read, the append follows.
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          db.runtime.begin(async (tx) => {
            const head = lockAuditHead(tx);
            await tx`SELECT count(*) FROM records`;
            return appendAudit(
              tx,
              { actor: 'early', action: 'reveal', target: String(i), outcome: 'success' },
              undefined,
              head,
            );
          }),
        ),
      );
      expect(await verifyAuditChain(db.runtime)).toMatchObject({ ok: true, events: 12 });
    } finally {
      await db.drop();
    }
  });

  it('refuses a second append with the same head instead of forking the chain', async () => {
    const db = await createVaultDatabase();
    try {
      const event = { actor: 'twice', action: 'reveal', outcome: 'success' } as const;
      await expect(
        db.runtime.begin(async (tx) => {
          const head = lockAuditHead(tx);
          await appendAudit(tx, event, undefined, head);
          await appendAudit(tx, event, undefined, head);
        }),
      ).rejects.toThrow(/duplicate key/);
      expect(await verifyAuditChain(db.runtime)).toMatchObject({ ok: true, events: 0 });
    } finally {
      await db.drop();
    }
  });
});
