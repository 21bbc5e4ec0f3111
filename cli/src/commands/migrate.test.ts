// Two installations on one PostgreSQL server, each migrated by `coffer migrate` with its own
// runtime role: neither shares the other's role, password or tables.
import { randomBytes } from 'node:crypto';
import { createTestDatabase, postgresAvailable, type TestDatabase } from '@coffer/testkit';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrateCommand } from './migrate.ts';

const available = await postgresAvailable();

/** `coffer migrate` as the CLI runs it, with these settings in the environment: what it printed. */
async function coffer(env: Record<string, string>): Promise<{ stdout: string }> {
  vi.stubEnv('COFFER_MIGRATION_DATABASE_URL', env.COFFER_MIGRATION_DATABASE_URL ?? '');
  vi.stubEnv('COFFER_RUNTIME_ROLE', env.COFFER_RUNTIME_ROLE ?? '');
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    await migrateCommand();
    return { stdout: out.mock.calls.map((c) => String(c[0])).join('') };
  } finally {
    out.mockRestore();
    vi.unstubAllEnvs();
  }
}

describe.skipIf(!available)('coffer migrate with a runtime role per installation', () => {
  const suffix = randomBytes(4).toString('hex');
  const installs: { db: TestDatabase; role: string }[] = [];
  let superuser: postgres.Sql;
  beforeAll(async () => {
    for (const which of ['a', 'b'])
      installs.push({ db: await createTestDatabase(), role: `coffer_${which}_${suffix}` });
    const server = new URL((installs[0] as { db: TestDatabase }).db.ownerUrl);
    server.pathname = '/postgres';
    superuser = postgres(server.href, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    for (const { db } of installs) await db.drop();
    for (const { role } of installs) await superuser?.unsafe(`DROP ROLE IF EXISTS ${role}`);
    await superuser?.end();
  });

  const as = (role: string, db: TestDatabase) => {
    const url = new URL(db.ownerUrl);
    url.username = role;
    url.password = '';
    return postgres(url.href, { max: 1, onnotice: () => {} });
  };

  it('creates and grants each installation its own role, and setting one password leaves the other', async () => {
    for (const { db, role } of installs) {
      const { stdout } = await coffer({
        COFFER_MIGRATION_DATABASE_URL: db.ownerUrl,
        COFFER_RUNTIME_ROLE: role,
      });
      expect(stdout).toMatch(/^applied: 001_roles\.sql/);
    }
    const [a, b] = installs as [(typeof installs)[0], (typeof installs)[0]];
    const roles = await superuser<
      { rolname: string }[]
    >`SELECT rolname FROM pg_roles WHERE rolname IN (${a.role}, ${b.role})`;
    expect(roles.map((r) => r.rolname).sort()).toEqual([a.role, b.role].sort());

    const passwordOf = async (role: string) =>
      (await superuser<{ p: string | null }[]>`SELECT rolpassword AS p FROM pg_authid WHERE rolname = ${role}`)[0]?.p;
    await superuser.unsafe(`ALTER ROLE ${b.role} PASSWORD 'b-password'`);
    const before = await passwordOf(b.role);
    await superuser.unsafe(`ALTER ROLE ${a.role} PASSWORD 'a-password'`);
    expect(await passwordOf(b.role)).toBe(before);

    // Each role reads its own installation's tables and none of the other's.
    for (const [self, other] of [
      [a, b],
      [b, a],
    ] as const) {
      const own = as(self.role, self.db);
      const foreign = as(self.role, other.db);
      try {
        expect(await own`SELECT count(*)::int AS n FROM records`).toEqual([{ n: 0 }]);
        await expect(foreign`SELECT count(*) FROM public.records`).rejects.toThrow(/permission denied/);
      } finally {
        await own.end();
        await foreign.end();
      }
    }
  });

  it('refuses to migrate an installation again under another role name', async () => {
    const [a, b] = installs as [(typeof installs)[0], (typeof installs)[0]];
    const again = coffer({ COFFER_MIGRATION_DATABASE_URL: a.db.ownerUrl, COFFER_RUNTIME_ROLE: b.role });
    await expect(again).rejects.toThrow(`runtime role is ${a.role}`);
    const same = await coffer({
      COFFER_MIGRATION_DATABASE_URL: a.db.ownerUrl,
      COFFER_RUNTIME_ROLE: a.role,
    });
    expect(same.stdout).toBe('already up to date\n');
  });

  it('refuses a role name that is not a plain identifier', async () => {
    const bad = coffer({
      COFFER_MIGRATION_DATABASE_URL: (installs[0] as { db: TestDatabase }).db.ownerUrl,
      COFFER_RUNTIME_ROLE: 'x; DROP TABLE records',
    });
    await expect(bad).rejects.toThrow(/COFFER_RUNTIME_ROLE is invalid/);
  });
});
