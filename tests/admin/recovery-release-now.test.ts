/**
 * Break-glass delay, the immediate path (issue 16, item 4c): with the delay on, a second officer's
 * run of `coffer recover --release-now` — k shares again, a challenge of its own, and the org key's
 * approval of exactly that held account and key — releases the keys at once. Too few or wrong
 * shares, a forged, re-aimed or replayed approval, a challenge begun before the hold, or a
 * cancelled hold change nothing.
 */
import { callVault } from '@coffer/bus';
import { prepareRecoveryRelease, releaseRecoveryNow } from '@coffer/cli';
import { PrivateKey, signRecoveryRelease } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, type Signed, signIn } from '../support/admin-stack.ts';
import { type DelayedRecovery, poll, RECOVERED_PASSWORD, startDelayedRecovery } from '../support/recovery-hold.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

describe.skipIf(!available)('break-glass recovery released now by k shares and a second officer', () => {
  let t: DelayedRecovery;
  let stack: AdminStack;
  let admin: Signed;
  let recordId: string;

  beforeAll(async () => {
    t = await startDelayedRecovery();
    ({ stack, admin, recordId } = t);
  });
  afterAll(() => t?.close());

  const shares = (from: number, to: number) => stack.ceremony.shares.slice(from, to) as string[];
  const recover = (email: string) => t.recover(email);
  type Held = { userId: string; fingerprint: string };
  const input = (held: Held, officerShares = shares(1, 3)) => ({
    bus: stack.adminBus,
    shares: officerShares,
    userId: held.userId,
    fingerprint: held.fingerprint,
    trustRoot: stack.ceremony.trustRoot,
  });
  const release = (held: Held, officerShares?: string[]) => releaseRecoveryNow(input(held, officerShares));
  /** A second officer's approval, built but not sent (as a bus operator would see it). */
  const approval = (held: Held) => prepareRecoveryRelease(input(held));
  const keysOf = (userId: string) => t.keysOf(userId);
  const stillHeld = async (userId: string) => {
    expect(await keysOf(userId)).toBe(0);
    const [user] = await stack.db.owner`SELECT status FROM users WHERE id = ${userId}`;
    expect(user?.status).toBe('unconfirmed');
    expect(await stack.db.owner`SELECT 1 FROM recovery_holds WHERE user_id = ${userId}`).toHaveLength(1);
  };

  it('k shares and the org key’s approval of that account release its keys at once', async () => {
    const held = await recover('officer@example.com');
    expect(held.heldUntil).toBeDefined();
    await stillHeld(held.userId);
    stack.advance(1000); // the second officer's run comes after the hold
    await release(held);

    expect(await keysOf(held.userId)).toBeGreaterThan(1);
    const officer = await signIn(stack.app, 'officer@example.com', RECOVERED_PASSWORD);
    const revealed = await call(stack.app, officer, 'POST', `/api/records/${recordId}/reveal`, { reason: 'drill' });
    expect(revealed.json()).toMatchObject({ value: '078-05-1120' });
    expect((await call(stack.app, admin, 'GET', '/api/recovery-holds')).json().items).toEqual([]);
    const [event] = await stack.db.owner`SELECT actor, outcome FROM audit_events
      WHERE action = 'recovery.release-now' AND target = ${held.userId}`;
    expect(event).toEqual({ actor: 'coffer recover', outcome: 'success' });
    // Every key-admin hears of the early release as they heard of the hold.
    const early = await poll(() => t.alerts.find((a) => a.userId === held.userId && a.releaseAt !== held.heldUntil));
    expect(early).toMatchObject({ kind: 'recovery', email: 'officer@example.com' });
    expect(Date.parse(early.releaseAt as string)).toBeLessThan(Date.parse(held.heldUntil as string));
  });

  it('fewer than k or wrong shares, a forged, re-aimed or replayed approval change nothing', async () => {
    admin = await signIn(stack.app);
    const held = await recover('second@example.com');
    stack.advance(1000);
    await expect(release(held, shares(0, 1))).rejects.toThrow();
    const mangled = shares(1, 3).map((s, i) =>
      // The character replaced decides the replacement, so the share always changes.
      i === 0 ? `${s.slice(0, -2)}${s.at(-2) === 'A' ? 'B' : 'A'}${s.slice(-1)}` : s,
    );
    await expect(release(held, mangled)).rejects.toThrow();
    // The wrong key: the fingerprint read out is not the held account's.
    await expect(release({ ...held, fingerprint: '1'.repeat(30) })).rejects.toMatchObject({ code: 'bad-signature' });

    // A bus operator who sees a genuine answer signs with a key of their own...
    const genuine = await approval(held);
    const forged = signRecoveryRelease(PrivateKey.generate('ed25519'), genuine);
    await expect(
      callVault(stack.adminBus, 'recovery.release-now', { ...genuine, approval: forged }),
    ).rejects.toMatchObject({ code: 'bad-signature' });
    // ...or aims an approval of another held account at this one.
    const other = await recover('third@example.com');
    stack.advance(1000);
    const forOther = await approval(other);
    await expect(
      callVault(stack.adminBus, 'recovery.release-now', {
        ...forOther,
        userId: held.userId,
        fingerprint: genuine.fingerprint,
      }),
    ).rejects.toMatchObject({ code: 'bad-signature' });
    await stillHeld(held.userId);

    // A used approval does not work twice: replayed for the same account once it is used.
    await callVault(stack.adminBus, 'recovery.release-now', genuine);
    expect(await keysOf(held.userId)).toBeGreaterThan(1);
    await expect(callVault(stack.adminBus, 'recovery.release-now', genuine)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    await stillHeld(other.userId);
    const failures = await stack.db.owner`SELECT 1 FROM audit_events
      WHERE action = 'recovery.release-now' AND outcome = 'failure'`;
    expect(failures.length).toBeGreaterThanOrEqual(3);
  });

  it('a challenge begun before the hold is not an approval of it', async () => {
    const material = await callVault(stack.adminBus, 'recovery.begin', { v: 1, origin: 'test' });
    stack.advance(1000);
    const held = await recover('early@example.com');
    const early = await prepareRecoveryRelease(input(held), material);
    await expect(callVault(stack.adminBus, 'recovery.release-now', early)).rejects.toMatchObject({
      code: 'conflict',
    });
    await stillHeld(held.userId);
  });

  it('a cancelled hold cannot be released', async () => {
    admin = await signIn(stack.app);
    const held = await recover('intruder@example.com');
    expect((await call(stack.app, admin, 'POST', `/api/recovery-holds/${held.userId}/cancel`)).statusCode).toBe(200);
    stack.advance(1000);
    await expect(release(held)).rejects.toMatchObject({ code: 'not-found' });
    expect(await keysOf(held.userId)).toBe(0);
    const [user] = await stack.db.owner`SELECT status FROM users WHERE id = ${held.userId}`;
    expect(user?.status).toBe('revoked');
  });
});
