// Issue 11, item 7, for the admin ↔ vault plane: during a rolling upgrade a new vault answers an
// old admin and a new admin calls an old vault. Every recorded request (tests/fixtures/bus/admin/,
// one per operation and version, never edited) must be decoded and routed by today's vault, and
// every recorded reply decoded by today's admin client, so a change that breaks the previous
// release fails here. Record new versions with `pnpm tsx tests/fixtures/bus/record-fixtures.ts`.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { callVault, InProcessBus, VaultRefused } from '@coffer/bus';
import {
  ADMIN_OPERATIONS,
  type AdminOperation,
  AdminReply,
  checkAdminResult,
  decodeJson,
  encodeJson,
} from '@coffer/protocol';
import { sampleRequest } from '@coffer/protocol/testing';
import { createTestDatabase, postgresAvailable, prepareRuntimeRole, type TestDatabase } from '@coffer/testkit';
import { migrate, startVault, type Vault } from '@coffer/vault';
import { adminDispatcher } from '@coffer/vault/testing';
import pino from 'pino';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_FIXTURES, type AdminFixture, requestVersions } from './fixtures/bus/admin-fixtures.ts';

const names = readdirSync(ADMIN_FIXTURES).filter((f) => f.endsWith('.json'));
const fixture = (name: string): AdminFixture =>
  JSON.parse(readFileSync(path.join(ADMIN_FIXTURES, name), 'utf8')) as AdminFixture;
const all = names.map((name) => [name, fixture(name)] as const);
const requests = all.filter(([, f]) => f.form === 'request');
const replies = all.filter(([, f]) => f.form !== 'request');
const body = (f: AdminFixture) => Buffer.from(f.body, 'utf8');

describe('recorded admin ↔ vault fixtures', () => {
  it('are never edited: every file matches the hash it was committed with', () => {
    const sums = readFileSync(path.join(ADMIN_FIXTURES, 'SHA256SUMS'), 'utf8').trim().split('\n');
    expect(sums.map((l) => l.split(/\s+/)[1]).sort()).toEqual([...names].sort());
    for (const line of sums) {
      const [sum, name] = line.split(/\s+/) as [string, string];
      const file = readFileSync(path.join(ADMIN_FIXTURES, name));
      expect(createHash('sha256').update(file).digest('hex'), name).toBe(sum);
      expect(createHash('sha256').update(fixture(name).body).digest('hex'), `${name} body`).toBe(fixture(name).sha256);
    }
  });

  it('cover every operation of the contract table, each request version it knows, and its reply', () => {
    for (const op of ADMIN_OPERATIONS) {
      for (const v of requestVersions(op)) {
        expect(names, `${op} request v${v}: run the recorder`).toContain(`request-${op}-v${v}.json`);
      }
      expect(names, `${op} reply: run the recorder`).toContain(`reply-${op}-v1.json`);
    }
    expect(replies.filter(([, f]) => f.form === 'refusal').map(([, f]) => JSON.parse(f.body).error)).toContain(
      'bad-request',
    );
  });

  it.each(requests)('%s: today’s router decodes it and hands it to its handler', async (_name, f) => {
    const handled: { op: string; request: unknown }[] = [];
    const handlers = Object.fromEntries(
      ADMIN_OPERATIONS.map((op) => [
        op,
        async (request: unknown) => {
          handled.push({ op, request });
        },
      ]),
    );
    const dispatch = adminDispatcher({ handlers: handlers as never, gate: async () => ({}), clock: () => new Date() });
    await dispatch(f.op, body(f));
    // The reply nonce (recorded since replies are signed) is the router's, not the handler's.
    const { replyNonce: _nonce, ...request } = JSON.parse(f.body);
    expect(handled).toEqual([{ op: f.op, request }]);
  });

  it.each(replies)('%s: today’s admin client decodes it', async (_name, f) => {
    const bus = new InProcessBus();
    bus.serve(`${bus.names.admin}.>`, async () => body(f));
    const reply = decodeJson(AdminReply, body(f));
    const call = callVault(bus, f.op, sampleRequest(f.op));
    if (reply.ok) {
      await expect(call).resolves.toEqual(checkAdminResult(f.op, reply.result));
      expect(f.form).toBe('result');
    } else {
      await expect(call).rejects.toBeInstanceOf(VaultRefused);
      await expect(callVault(bus, f.op, sampleRequest(f.op))).rejects.toMatchObject({ code: reply.error });
    }
    await bus.close();
  });
});

const available = await postgresAvailable();

describe.skipIf(!available)('recorded admin requests against today’s vault on a real database', () => {
  let db: TestDatabase;
  let sql: postgres.Sql;
  let vault: Vault;
  const bus = new InProcessBus();

  beforeAll(async () => {
    db = await createTestDatabase();
    const owner = postgres(db.ownerUrl, { max: 1, onnotice: () => {} });
    await migrate(owner);
    await owner.end();
    await prepareRuntimeRole(db);
    sql = postgres(db.runtimeUrl, { max: 4, onnotice: () => {} });
    vault = await startVault({ sql, bus, log: pino({ level: 'silent' }), host: '127.0.0.1', port: 0 });
  }, 60_000);

  afterAll(async () => {
    await vault?.close();
    await bus.close();
    await sql?.end();
    await db?.drop();
  });

  it.each(requests)('%s: routed, never refused as malformed or unknown, never an internal error', async (_name, f) => {
    const reply = decodeJson(AdminReply, await bus.request(`${bus.names.admin}.${f.op}`, body(f)));
    // A fresh vault refuses most of them (no session, not initialised): by policy, not by schema.
    if (!reply.ok) expect(['bad-request', 'unknown-operation', 'internal']).not.toContain(reply.error);
  });

  it('a request today’s schema refuses is still told apart (the check above is not vacuous)', async () => {
    const bad = encodeJson({ ...sampleRequest('whoami' as AdminOperation), v: 2 });
    const reply = decodeJson(AdminReply, await bus.request(`${bus.names.admin}.whoami`, bad));
    expect(reply).toMatchObject({ ok: false, error: 'bad-request' });
  });
});
