/**
 * Issue 14 item 4: a reveal commits once. The router runs `records.reveal`'s gate (authenticate,
 * session touch, policy) and handler (record, audit event, reply) in one transaction, checked here
 * two ways against the real database: the statements the vault's connection sent, and
 * pg_stat_database's commit count of this test's own database around N reveals. Fail-closed stays:
 * a reveal whose audit event cannot be written serves nothing and leaves the session untouched.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { encodeJson, newRecordId } from '@coffer/protocol';
import { postgresAvailable } from '@coffer/testkit';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultDatabase, insertDataKey, type VaultDatabase } from '../../testing/vault-database.ts';
import { adminHandlers } from './handlers.ts';
import { ONE_TRANSACTION_OPS, oneTransaction, policyGate } from './policy.ts';
import { adminDispatcher } from './router.ts';

const available = await postgresAvailable();
const HOUR = 60 * 60 * 1000;
const T0 = new Date(Date.now() - 60_000);
const NOW = new Date(T0.getTime() + 30_000);
const REVEALS = 20;

/** A dispatcher wired as the vault wires it, on its own connection to the runtime role. */
function vaultOn(sql: postgres.Sql) {
  return adminDispatcher({
    handlers: adminHandlers(sql, async () => {}),
    gate: policyGate(sql, { requireMfa: false }),
    oneTransaction: { ops: ONE_TRANSACTION_OPS, run: oneTransaction(sql) },
    clock: () => NOW,
  });
}

describe.skipIf(!available)('a reveal commits once (issue 14 item 4)', () => {
  let db: VaultDatabase;
  let session: string;
  let recordId: string;
  let sessionId: string;
  const sealed = randomBytes(80);

  /** Run `fn` on a connection of its own that is closed afterwards, so its statistics are flushed. */
  async function alone<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>, debug?: (query: string) => void) {
    const sql = postgres(url, { max: 1, onnotice: () => {}, ...(debug ? { debug: (_c, q) => debug(q) } : {}) });
    try {
      return await fn(sql);
    } finally {
      await sql.end();
    }
  }

  /**
   * This database's committed transactions once every client connection to it has closed (a
   * backend flushes its statistics when it exits): a bounded poll, not a timed wait. The observer
   * connects to the server's `postgres` database, so none of its own polling queries is counted
   * here (each was a commit of this database, and a slow close under load made them many); it waits
   * for client backends only (an autovacuum worker may visit this fresh database at any time).
   */
  async function commitsWhenQuiet(): Promise<number> {
    const name = decodeURIComponent(new URL(db.ownerUrl).pathname.slice(1));
    const server = new URL(db.ownerUrl);
    server.pathname = '/postgres';
    return alone(server.href, async (sql) => {
      for (let i = 0; i < 300; i++) {
        const [row] = await sql<{ others: number }[]>`SELECT count(*)::int AS others FROM pg_stat_activity
          WHERE datname = ${name} AND backend_type = 'client backend'`;
        if (row?.others === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await sql`SELECT pg_stat_clear_snapshot()`;
      const [row] = await sql<{ n: string }[]>`SELECT xact_commit AS n FROM pg_stat_database WHERE datname = ${name}`;
      return Number(row?.n);
    });
  }

  beforeAll(async () => {
    db = await createVaultDatabase();
    const userId = randomUUID();
    sessionId = randomUUID();
    session = createHash('sha256').update(randomBytes(32)).digest('hex');
    const { bundle } = await insertDataKey(db.owner, new Date(T0.getTime() - HOUR), new Date(T0.getTime() + HOUR));
    recordId = newRecordId();
    await db.owner`INSERT INTO users (id, email, role, status)
      VALUES (${userId}, ${`${userId}@example.com`}, 'viewer', 'active')`;
    await db.owner`INSERT INTO sessions (token_hash, id, user_id, wrapped_key, created_at, last_seen_at,
        idle_expires_at, absolute_expires_at, mfa)
      VALUES (${session}, ${sessionId}, ${userId}, ${Buffer.alloc(1)}, ${T0}, ${T0},
        ${new Date(T0.getTime() + HOUR)}, ${new Date(T0.getTime() + HOUR)}, false)`;
    await db.owner`INSERT INTO wrapped_keys (key_kind, key_id, recipient_kind, recipient_id, wrapped)
      VALUES ('data', ${bundle.id}, 'user', ${userId}, ${Buffer.alloc(88, 1)})`;
    await db.owner`INSERT INTO records (id, type, data_key_id, sealed, submitted_at)
      VALUES (${recordId}, 'pan', ${bundle.id}, ${sealed}, ${T0})`;
    // From here on the test's connections are its own and short-lived (see commitsWhenQuiet).
    await db.owner.end();
    await db.runtime.end();
  });
  afterAll(() => db?.drop());

  const reveal = (id: string, reason = 'commit count') =>
    encodeJson({ v: 1, session, recordId: id, reason, origin: '127.0.0.1 test' });
  const lastSeen = () =>
    alone(db.ownerUrl, async (sql) => {
      const [row] = await sql<{ at: Date }[]>`SELECT last_seen_at AS at FROM sessions WHERE id = ${sessionId}`;
      return row?.at.getTime();
    });
  const audits = () =>
    alone(db.ownerUrl, async (sql) => {
      const [row] = await sql<
        { n: number }[]
      >`SELECT count(*)::int AS n FROM audit_events WHERE action = 'record.reveal'`;
      return row?.n;
    });

  it('sends each reveal as one transaction: BEGIN, the touch, the record, the audit event, COMMIT', async () => {
    const statements: string[] = [];
    await alone(
      db.runtimeUrl,
      async (sql) => {
        const vault = vaultOn(sql);
        await sql`SELECT 1`; // the connection's own start-up queries, before the log is read
        statements.length = 0;
        const result = await vault('records.reveal', reveal(recordId));
        expect(result.record.sealed).toBe(sealed.toString('base64'));
      },
      (q) => statements.push(q.trim().split(/\s+/)[0]?.toLowerCase() ?? ''),
    );
    expect(statements[0]).toBe('begin');
    expect(statements.at(-1)).toBe('commit');
    expect(statements.filter((s) => s === 'begin' || s === 'commit')).toEqual(['begin', 'commit']);
    expect(statements).toContain('update'); // the session touch, inside the transaction
    expect(statements).toContain('insert'); // the audit event
    expect(await lastSeen()).toBe(NOW.getTime());
  });

  it(`commits ${REVEALS} reveals as ${REVEALS} transactions in pg_stat_database`, async () => {
    const before = await commitsWhenQuiet();
    await alone(db.runtimeUrl, async (sql) => {
      const vault = vaultOn(sql);
      for (let i = 0; i < REVEALS; i++) await vault('records.reveal', reveal(recordId));
    });
    const after = await commitsWhenQuiet();
    // Besides the reveals: the new connection's start-up (a few at most), and an autovacuum
    // worker's visit if one came. Two commits per reveal (the touch on its own, as before) would
    // be 2 × 20.
    expect(after - before).toBeGreaterThanOrEqual(REVEALS);
    expect(after - before).toBeLessThan(REVEALS + REVEALS / 2);
  });

  it('still refuses a reveal whose audit event cannot be written, and leaves the session untouched', async () => {
    await alone(db.ownerUrl, async (sql) => {
      await sql`UPDATE sessions SET last_seen_at = ${T0} WHERE id = ${sessionId}`;
      await sql`REVOKE INSERT ON audit_events FROM coffer_vault`;
    });
    const before = await audits();
    try {
      await alone(db.runtimeUrl, async (sql) => {
        await expect(vaultOn(sql)('records.reveal', reveal(recordId, 'audit is down'))).rejects.toMatchObject({
          code: 'audit-unavailable',
        });
      });
    } finally {
      await alone(db.ownerUrl, (sql) => sql`GRANT INSERT ON audit_events TO coffer_vault`);
    }
    expect(await lastSeen()).toBe(T0.getTime());
    expect(await audits()).toBe(before);
  });

  it('commits an audited refusal with the touch: a missing record is refused and its failure stays', async () => {
    const before = await audits();
    await alone(db.runtimeUrl, async (sql) => {
      await expect(vaultOn(sql)('records.reveal', reveal(newRecordId(), 'no such record'))).rejects.toMatchObject({
        code: 'not-found',
      });
    });
    expect(await audits()).toBe((before ?? 0) + 1);
    expect(await lastSeen()).toBe(NOW.getTime());
  });
});
