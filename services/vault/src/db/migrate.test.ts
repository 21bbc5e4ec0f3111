import { readdirSync } from 'node:fs';
import { postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultDatabase, type VaultDatabase } from '../../testing/vault-database.ts';
import { MIGRATIONS_DIR, migrate } from './migrate.ts';

const available = await postgresAvailable();

describe.skipIf(!available)('migrations and database roles', () => {
  let db: VaultDatabase;
  beforeAll(async () => {
    db = await createVaultDatabase();
  });
  afterAll(() => db?.drop());

  it('apply once: running them again (twice at once) changes nothing', async () => {
    const [a, b] = await Promise.all([migrate(db.owner), migrate(db.owner)]);
    expect([a, b]).toEqual([[], []]);
    const applied = await db.owner`SELECT name FROM schema_migrations ORDER BY name`;
    expect(applied.map((r) => r.name)).toEqual(
      readdirSync(MIGRATIONS_DIR)
        .filter((f) => f.endsWith('.sql'))
        .sort(),
    );
    expect(applied.length).toBeGreaterThanOrEqual(5);
  });

  it('give the runtime role no DDL', async () => {
    await expect(db.runtime`CREATE TABLE planted (x int)`).rejects.toThrow(/permission denied/);
    await expect(db.runtime`DROP TABLE records`).rejects.toThrow(/must be owner/);
    await expect(db.runtime`ALTER TABLE records ADD COLUMN plain text`).rejects.toThrow(/must be owner/);
  });

  it('let the runtime role append to and read the audit log, never change it', async () => {
    await db.runtime`INSERT INTO audit_events (seq, at, actor, action, outcome, prev_hash, hash)
      VALUES (1, now(), 'test', 'test', 'success', ${Buffer.alloc(32)}, ${Buffer.alloc(32)})`;
    expect(await db.runtime`SELECT seq FROM audit_events`).toHaveLength(1);
    await expect(db.runtime`UPDATE audit_events SET actor = 'someone else'`).rejects.toThrow(/permission denied/);
    await expect(db.runtime`DELETE FROM audit_events`).rejects.toThrow(/permission denied/);
    await expect(db.runtime`TRUNCATE audit_events`).rejects.toThrow(/permission denied/);
  });

  it('refuse a migration file that changed after it was applied', async () => {
    await db.owner`UPDATE schema_migrations SET checksum = 'edited' WHERE name = '002_schema.sql'`;
    await expect(migrate(db.owner)).rejects.toThrow(/002_schema.sql was changed/);
  });
});
