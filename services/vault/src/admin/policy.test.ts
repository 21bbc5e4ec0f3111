import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ADMIN_OPERATIONS, AdminContract, type AdminOperation, ROLES, type Role } from '@coffer/protocol';
import { sampleRequest } from '@coffer/protocol/testing';
import { postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultDatabase, type VaultDatabase } from '../../testing/vault-database.ts';
import { policyGate } from './policy.ts';
import type { PolicyGate } from './router.ts';

const available = await postgresAvailable();
const NOW = new Date();
const HOUR = 60 * 60 * 1000;
const ops = (session: 'none' | 'optional' | 'required') =>
  ADMIN_OPERATIONS.filter((op) => AdminContract[op].policy.session === session).map((op) => [op] as [AdminOperation]);

describe.skipIf(!available)('the policy column, applied against the database before any handler', () => {
  let db: VaultDatabase;
  let gate: PolicyGate;
  let gateWithMfa: PolicyGate;
  beforeAll(async () => {
    db = await createVaultDatabase();
    gate = policyGate(db.runtime, { requireMfa: false });
    gateWithMfa = policyGate(db.runtime, { requireMfa: true });
  });
  afterAll(() => db?.drop());

  /** A live session of a new user with this role and status; returns its token hash. */
  async function sessionOf(role: Role, status: 'active' | 'unconfirmed', mfa = false): Promise<string> {
    const userId = randomUUID();
    const hash = createHash('sha256').update(randomBytes(32)).digest('hex');
    await db.owner`INSERT INTO users (id, email, role, status) VALUES (${userId}, ${`${userId}@example.com`}, ${role}, ${status})`;
    await db.owner`INSERT INTO sessions (token_hash, id, user_id, wrapped_key, created_at, last_seen_at,
        idle_expires_at, absolute_expires_at, mfa)
      VALUES (${hash}, ${randomUUID()}, ${userId}, ${Buffer.alloc(1)}, ${NOW}, ${NOW},
        ${new Date(NOW.getTime() + HOUR)}, ${new Date(NOW.getTime() + HOUR)}, ${mfa})`;
    return hash;
  }
  const request = (op: AdminOperation, session: string) =>
    ({ ...sampleRequest(op), session }) as Record<string, unknown>;
  const denials = async (action: string) =>
    Number(
      (await db.owner`SELECT count(*) AS n FROM audit_events WHERE action = ${action} AND outcome = 'denied'`)[0]?.n,
    );

  it.each(ops('required'))('%s: refuses a session that is not live', async (op) => {
    const dead = createHash('sha256').update(randomBytes(32)).digest('hex');
    await expect(gate(AdminContract[op].policy, request(op, dead), NOW)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
  });

  it.each(ops('required'))('%s: admits exactly the confirmed roles it names, and audits each refusal', async (op) => {
    const policy = AdminContract[op].policy;
    const roles: readonly Role[] = 'roles' in policy && policy.roles ? policy.roles : ROLES;
    for (const role of ROLES) {
      const session = await sessionOf(role, 'active');
      // Counted before the gate runs: its refusal is written while it runs, not after.
      const before = await denials(String('audit' in policy ? policy.audit : ''));
      const admitted = gate(policy, request(op, session), NOW);
      if (roles.includes(role)) {
        await expect(admitted).resolves.toMatchObject({ caller: { role, status: 'active' } });
      } else {
        await expect(admitted).rejects.toMatchObject({ code: 'forbidden' });
        expect(await denials(String('audit' in policy ? policy.audit : ''))).toBe(before + 1);
      }
    }
    // Authority comes with confirmation: an unconfirmed user has only what needs no role.
    const unconfirmed = gate(policy, request(op, await sessionOf(roles[0] as Role, 'unconfirmed')), NOW);
    if ('roles' in policy && policy.roles) await expect(unconfirmed).rejects.toMatchObject({ code: 'forbidden' });
    else await expect(unconfirmed).resolves.toMatchObject({ caller: { status: 'unconfirmed' } });
  });

  it.each(ops('required'))(
    '%s: with COFFER_REQUIRE_MFA, asks data-key holders for a TOTP session if it says mfa',
    async (op) => {
      const policy = AdminContract[op].policy;
      const role: Role = 'roles' in policy && policy.roles ? (policy.roles[0] as Role) : 'viewer';
      const withoutCode = gateWithMfa(policy, request(op, await sessionOf(role, 'active')), NOW);
      if ('mfa' in policy && policy.mfa) await expect(withoutCode).rejects.toMatchObject({ code: 'mfa-required' });
      else await expect(withoutCode).resolves.toMatchObject({ caller: { role } });
      await expect(gateWithMfa(policy, request(op, await sessionOf(role, 'active', true)), NOW)).resolves.toMatchObject(
        {
          caller: { role, mfa: true },
        },
      );
    },
  );

  it.each(ops('optional'))('%s: gives the caller of a live session, and none for a dead one', async (op) => {
    const policy = AdminContract[op].policy;
    const live = await sessionOf('viewer', 'active');
    await expect(gate(policy, request(op, live), NOW)).resolves.toMatchObject({ caller: { role: 'viewer' } });
    await expect(gate(policy, request(op, 'ab'.repeat(32)), NOW)).resolves.toEqual({ caller: undefined });
  });

  it.each(ops('none'))('%s: needs no session', async (op) => {
    await expect(gate(AdminContract[op].policy, sampleRequest(op) as Record<string, unknown>, NOW)).resolves.toEqual(
      {},
    );
  });
});
