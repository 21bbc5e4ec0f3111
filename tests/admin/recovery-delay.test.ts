/**
 * Break-glass delay (issue 16, item 4c), switched on: a key-admin made by `coffer recover` signs
 * in at once but holds no key and may do nothing a role allows until the delay has passed; every
 * key-admin is alerted on the bus and sees the hold; any one of them cancels it, which revokes the
 * recovered account. After the delay the vault hands the keys over.
 */
import { runRecovery } from '@coffer/cli';
import { AlertMessage, checkJson } from '@coffer/protocol';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { releaseRecoveryHolds } from '@coffer/vault/testing';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, type Signed, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const PASSWORD = 'saffron-quarry-meridian-6620-slowly';
const HOUR = 60 * 60_000;

describe.skipIf(!available)('break-glass recovery waits out its delay', () => {
  let stack: AdminStack;
  let admin: Signed;
  let recordId: string;
  let nc: NatsConnection;
  const alerts: Record<string, unknown>[] = [];

  beforeAll(async () => {
    // The test releases due holds itself and counts them: the vault's own minutely run must not
    // release one first.
    stack = await startAdminStack({ twoPerson: { recoveryDelayMinutes: 60 }, vaultJanitor: false });
    nc = await connect({ servers: stack.natsUrl });
    nc.subscribe(`${stack.names.alerts}.recovery`, {
      callback: (_err, msg) => {
        alerts.push(checkJson(AlertMessage, msg.json()));
      },
    });
    await nc.flush();
    recordId = await stack.addRecord('ssn', '078-05-1120');
    admin = await signIn(stack.app);
  });
  afterAll(async () => {
    await nc?.close();
    await stack?.close();
  });

  const recover = (email: string) =>
    runRecovery({
      bus: stack.adminBus,
      shares: stack.ceremony.shares.slice(0, 2) as string[],
      email,
      password: PASSWORD,
      trustRoot: stack.ceremony.trustRoot,
    });
  const keysOf = async (userId: string) =>
    Number((await stack.db.owner`SELECT count(*) AS n FROM wrapped_keys WHERE recipient_id = ${userId}`)[0]?.n);
  const reveal = (who: Signed) => call(stack.app, who, 'POST', `/api/records/${recordId}/reveal`, { reason: 'drill' });

  it('the recovered key-admin holds nothing and may do nothing until the delay has passed', async () => {
    const { userId, heldUntil } = await recover('officer@example.com');
    expect(Date.parse(heldUntil as string) - stack.now().getTime()).toBeGreaterThan(HOUR - 60_000);
    expect(await keysOf(userId)).toBe(0);
    const officer = await signIn(stack.app, 'officer@example.com', PASSWORD);
    expect((await reveal(officer)).statusCode).toBe(403);
    // It cannot revoke the key-admins who could cancel it.
    const adminId = (await stack.db.owner`SELECT id::text FROM users WHERE role = 'key-admin' AND status = 'active'`)[0]
      ?.id;
    expect((await call(stack.app, officer, 'DELETE', `/api/users/${adminId}`)).statusCode).toBe(403);
    expect((await call(stack.app, officer, 'POST', `/api/recovery-holds/${userId}/cancel`)).statusCode).toBe(403);

    const holds = await call(stack.app, admin, 'GET', '/api/recovery-holds');
    expect(holds.json().items).toEqual([expect.objectContaining({ userId, email: 'officer@example.com' })]);
    const alert = await poll(() => alerts.find((a) => a.userId === userId));
    expect(alert).toMatchObject({ kind: 'recovery', email: 'officer@example.com', releaseAt: heldUntil });

    // Not yet: the janitor leaves it alone before its time.
    expect(await releaseRecoveryHolds(stack.db.runtime, stack.now())).toBe(0);
    stack.advance(HOUR + 60_000);
    expect(await releaseRecoveryHolds(stack.db.runtime, stack.now())).toBe(1);
    expect(await keysOf(userId)).toBeGreaterThan(1);
    const later = await signIn(stack.app, 'officer@example.com', PASSWORD);
    const revealed = await reveal(later);
    expect(revealed.json()).toMatchObject({ value: '078-05-1120' });
    const [release] = await stack.db.owner`SELECT actor, target FROM audit_events WHERE action = 'recovery.release'`;
    expect(release).toEqual({ actor: 'vault', target: userId });
  });

  it('any key-admin cancels a waiting recovery: the account is revoked and never gets keys', async () => {
    admin = await signIn(stack.app); // the clock moved past the idle timeout above
    const { userId } = await recover('intruder@example.com');
    const cancelled = await call(stack.app, admin, 'POST', `/api/recovery-holds/${userId}/cancel`);
    expect(cancelled.statusCode).toBe(200);
    expect((await call(stack.app, admin, 'GET', '/api/recovery-holds')).json().items).toEqual([]);
    stack.advance(2 * HOUR);
    expect(await releaseRecoveryHolds(stack.db.runtime, stack.now())).toBe(0);
    expect(await keysOf(userId)).toBe(0);
    const [user] = await stack.db.owner`SELECT status FROM users WHERE id = ${userId}`;
    expect(user?.status).toBe('revoked');
    const signin = await call(stack.app, undefined, 'POST', '/api/session', {
      email: 'intruder@example.com',
      password: PASSWORD,
    });
    expect(signin.statusCode).toBe(401);
    const actions = await stack.db.owner`SELECT action FROM audit_events WHERE target = ${userId} ORDER BY seq`;
    expect(actions.map((a) => a.action)).toEqual(expect.arrayContaining(['recovery.cancel', 'user.revoke']));
  });
});

// 600 tries of 50 ms (30 s): the alert crosses the bus; 5 s was tight on a loaded machine.
async function poll<T>(probe: () => T | undefined, tries = 600): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const found = probe();
    if (found !== undefined) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('gave up waiting');
}
