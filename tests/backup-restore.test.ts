// Issue 11, item 6: a backup taken with pg_dump, restored with pg_restore into an empty database,
// runs Coffer again: a record submitted before the backup is revealed from the restored database
// and the audit chain verifies — before and after the restored vault appends to it.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startPlanes } from '@coffer/cli';
import { createTestDatabase, postgresAvailable, requireServices, type TestDatabase } from '@coffer/testkit';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { adminGet, reveal, signIn } from './support/admin-client.ts';
import { submit, waitFor } from './support/http.ts';
import { BOOTSTRAP, type Infra, ingestLog, PLANES_DEFAULTS, startInfra, vaultLogger } from './support/stack.ts';

const run = promisify(execFile);
const tools = await Promise.all(
  ['pg_dump', 'pg_restore'].map((t) =>
    run(t, ['--version']).then(
      () => true,
      () => false,
    ),
  ),
);
const haveTools = tools.every(Boolean);
if (!haveTools && requireServices()) throw new Error('pg_dump/pg_restore are required (apt: postgresql-client)');
const available = (await postgresAvailable()) && haveTools;

describe.skipIf(!available)('backup with pg_dump, restore with pg_restore into an empty database', () => {
  let infra: Infra;
  let restoredDb: TestDatabase | undefined;
  let restoredSql: postgres.Sql | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  let dir = '';
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await restoredSql?.end({ timeout: 5 });
    await restoredDb?.drop();
    await infra?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('reveals a record submitted before the backup, and the audit chain verifies', async () => {
    infra = await startInfra();
    dir = await mkdtemp(path.join(os.tmpdir(), 'coffer-backup-'));
    // The org key is pinned from the first start, as an operator pins it from `coffer init`.
    let pinned: string | undefined;
    const planes = async (sql: postgres.Sql) => {
      const buses = {
        vault: await infra.connectBus('vault'),
        ingest: await infra.connectBus('ingest'),
        admin: await infra.connectBus('admin'),
      };
      const p = await startPlanes({
        sql,
        buses,
        logs: { vault: vaultLogger(infra), ingest: ingestLog(infra) },
        ...PLANES_DEFAULTS,
        // On the vault host, not in the database backup: the restored vault keeps its certified key.
        replyKeyFile: path.join(dir, 'vault-reply-key.json'),
        ...(pinned ? { trustRoot: pinned } : {}),
      });
      pinned ??= p.trustRoot;
      // A plane that stops drops its bus connection too, as a stopped process would: the restored
      // vault must be the only one answering.
      const close = async () => {
        await p.close();
        await Promise.all(Object.values(buses).map((b) => b.close()));
      };
      closers.push(close);
      return { ...p, close };
    };

    // Before: a running Coffer with one record in it, revealed once (so the audit log has events).
    const before = await planes(infra.runtime);
    const value = 'the launch code is 0000';
    const accepted = await submit(before.ingestUrl, { type: 'secret', value });
    expect(accepted.status).toBe(202);
    const id = String(accepted.body.id);
    await waitFor(
      'the record stored',
      async () => (await infra.owner`SELECT 1 FROM records WHERE id = ${id}`).length === 1,
    );
    const session = await signIn(before.adminUrl as string, BOOTSTRAP.adminEmail, BOOTSTRAP.adminPassword);
    expect((await reveal(before.adminUrl as string, session, id)).body.value).toBe(value);
    const chainBefore = (await (await adminGet(before.adminUrl as string, session, '/api/audit/verify')).json()) as {
      ok: boolean;
      events: number;
      head: string;
    };
    expect(chainBefore.ok).toBe(true);

    // The backup: a custom-format dump of the whole database, taken while Coffer runs.
    const dump = path.join(dir, 'coffer.dump');
    await run('pg_dump', ['--format=custom', '--file', dump, (await dbUrl(infra)).href]);
    await before.close();

    // The restore: into a database with nothing in it.
    restoredDb = await createTestDatabase();
    const owner = postgres(restoredDb.ownerUrl, { max: 1, onnotice: () => {} });
    const [{ n } = { n: -1 }] = await owner<{ n: number }[]>`
      SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`;
    expect(n, 'the target database starts empty').toBe(0);
    await run('pg_restore', ['--exit-on-error', '--single-transaction', '--dbname', restoredDb.ownerUrl, dump]);
    await owner.end();

    // After: Coffer on the restored database (runtime role, as the vault always runs).
    restoredSql = postgres(restoredDb.runtimeUrl, { max: 5, onnotice: () => {} });
    const after = await planes(restoredSql);
    expect(after.ceremony, 'the restored vault is initialised: no new ceremony').toBeUndefined();
    expect(after.trustRoot).toBe(before.trustRoot);
    const again = await signIn(after.adminUrl as string, BOOTSTRAP.adminEmail, BOOTSTRAP.adminPassword);
    const verify = async () =>
      (await (await adminGet(after.adminUrl as string, again, '/api/audit/verify')).json()) as {
        ok: boolean;
        events: number;
        head: string;
      };
    const restoredChain = await verify();
    // The sign-in just made is one event more than the backup had; everything before it is intact.
    expect(restoredChain.ok).toBe(true);
    expect(restoredChain.events).toBeGreaterThan(chainBefore.events);
    const revealed = await reveal(after.adminUrl as string, again, id, 'restore drill');
    expect(revealed).toEqual({ status: 200, body: { id, type: 'secret', value, matchesType: true } });
    const finalChain = await verify();
    expect(finalChain.ok).toBe(true);
    expect(finalChain.events).toBeGreaterThan(restoredChain.events);
  }, 120_000);
});

async function dbUrl(infra: Infra): Promise<URL> {
  const [{ db } = { db: '' }] = await infra.owner<{ db: string }[]>`SELECT current_database() AS db`;
  const url = new URL(infra.runtimeUrl);
  url.username = 'postgres';
  url.password = '';
  url.pathname = `/${db}`;
  return url;
}
