/**
 * Break-glass delay (issue 16, item 4c), switched on: a key-admin made by `coffer recover` signs
 * in at once but holds no key and may do nothing a role allows until the delay has passed; every
 * key-admin is alerted on the bus and sees the hold; any one of them cancels it, which revokes the
 * recovered account. After the delay the vault hands the keys over.
 */
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { releaseRecoveryHolds } from '@coffer/vault/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, type Signed, signIn } from '../support/admin-stack.ts';
import { type DelayedRecovery, poll, RECOVERED_PASSWORD, startDelayedRecovery } from '../support/recovery-hold.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;
const HOUR = 60 * 60_000;

describe.skipIf(!available)('break-glass recovery waits out its delay', () => {
  let t: DelayedRecovery;
  let stack: AdminStack;
  let admin: Signed;
  let recordId: string;

  beforeAll(async () => {
    // The test releases due holds itself and counts them: the vault's own minutely run must not
    // release one first.
    t = await startDelayedRecovery({ vaultJanitor: false });
    ({ stack, admin, recordId } = t);
  });
  afterAll(() => t?.close());

  const recover = (email: string) => t.recover(email);
  const keysOf = (userId: string) => t.keysOf(userId);
  const reveal = (who: Signed) => call(stack.app, who, 'POST', `/api/records/${recordId}/reveal`, { reason: 'drill' });

  it('the recovered key-admin holds nothing and may do nothing until the delay has passed', async () => {
    const { userId, heldUntil } = await recover('officer@example.com');
    expect(Date.parse(heldUntil as string) - stack.now().getTime()).toBeGreaterThan(HOUR - 60_000);
    expect(await keysOf(userId)).toBe(0);
    const officer = await signIn(stack.app, 'officer@example.com', RECOVERED_PASSWORD);
    expect((await reveal(officer)).statusCode).toBe(403);
    // It cannot revoke the key-admins who could cancel it.
    const adminId = (await stack.db.owner`SELECT id::text FROM users WHERE role = 'key-admin' AND status = 'active'`)[0]
      ?.id;
    expect((await call(stack.app, officer, 'DELETE', `/api/users/${adminId}`)).statusCode).toBe(403);
    expect((await call(stack.app, officer, 'POST', `/api/recovery-holds/${userId}/cancel`)).statusCode).toBe(403);

    const holds = await call(stack.app, admin, 'GET', '/api/recovery-holds');
    expect(holds.json().items).toEqual([expect.objectContaining({ userId, email: 'officer@example.com' })]);
    const alert = await poll(() => t.alerts.find((a) => a.userId === userId));
    expect(alert).toMatchObject({ kind: 'recovery', email: 'officer@example.com', releaseAt: heldUntil });

    // Not yet: the janitor leaves it alone before its time.
    expect(await releaseRecoveryHolds(stack.db.runtime, stack.now())).toBe(0);
    stack.advance(HOUR + 60_000);
    expect(await releaseRecoveryHolds(stack.db.runtime, stack.now())).toBe(1);
    expect(await keysOf(userId)).toBeGreaterThan(1);
    const later = await signIn(stack.app, 'officer@example.com', RECOVERED_PASSWORD);
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
      password: RECOVERED_PASSWORD,
    });
    expect(signin.statusCode).toBe(401);
    const actions = await stack.db.owner`SELECT action FROM audit_events WHERE target = ${userId} ORDER BY seq`;
    expect(actions.map((a) => a.action)).toEqual(expect.arrayContaining(['recovery.cancel', 'user.revoke']));
  });
});
