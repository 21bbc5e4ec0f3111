/**
 * What a security review found and this code now prevents: lockout outrun by parallel guesses,
 * lockout as an account oracle, sessions minted with a bus credential alone, audit flooding by
 * strangers, export pages outside an audited export, forged failure events, unaudited aborts.
 */
import { callVault } from '@coffer/bus';
import {
  adminRequestDigest,
  createSessionToken,
  enrollPassword,
  sessionTokenHash,
  signPasswordProof,
  unlockWithPassword,
} from '@coffer/crypto';
import { newRecordId } from '@coffer/protocol';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_EMAIL, ADMIN_PASSWORD, type AdminStack, signIn, startAdminStack } from '../support/admin-stack.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

describe.skipIf(!available)('hardening', () => {
  let stack: AdminStack;
  beforeAll(async () => {
    stack = await startAdminStack();
    // More than one export page (1,000), so that a client can walk away mid-export.
    for (let i = 0; i < 25; i++) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) => stack.addRecord('secret', `exported value ${i * 100 + j}`)),
      );
    }
  });
  afterAll(() => stack?.close());

  const attempt = (email: string, password: string) =>
    stack.app.inject({ method: 'POST', url: '/api/session', payload: { email, password } });
  const auditCount = async (action: string) =>
    Number((await stack.db.owner`SELECT count(*) AS n FROM audit_events WHERE action = ${action}`)[0]?.n);

  it('refuses a session from the bus credential alone, and never accepts a proof twice', async () => {
    const admin = stack.ceremony.request.admin;
    const begin = () => callVault(stack.adminBus, 'signin.begin', { v: 1, email: ADMIN_EMAIL, origin: 'test' });
    const sessionId = newRecordId();
    const request = (challengeId: string, session: string) => ({
      v: 1 as const,
      userId: admin.id,
      challengeId,
      session,
      sessionId,
      wrappedKey: Buffer.alloc(64).toString('base64'),
      origin: 'test',
    });
    const complete = (challengeId: string, proof: string, session: string) =>
      callVault(stack.adminBus, 'signin.complete', { ...request(challengeId, session), proof });
    // Without the password: a forged signature is refused.
    const first = await begin();
    const forged = complete(
      first.challenge?.id as string,
      Buffer.alloc(64, 7).toString('base64url'),
      sessionTokenHash(createSessionToken()),
    );
    await expect(forged).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(await stack.db.owner`SELECT 1 FROM sessions`).toHaveLength(0);

    // With the password, once; the same proof (as captured on the bus) again is refused, and it
    // cannot be moved to another session either.
    const { authKey } = await unlockWithPassword(ADMIN_PASSWORD, admin.passwordVerifier);
    const second = await begin();
    const challenge = second.challenge as { id: string; nonce: string };
    const session = sessionTokenHash(createSessionToken());
    const proof = signPasswordProof(authKey, challenge, [
      admin.id,
      session,
      adminRequestDigest('signin.complete', request(challenge.id, session)),
    ]);
    await complete(challenge.id, proof, session);
    await expect(complete(challenge.id, proof, session)).rejects.toMatchObject({ code: 'unauthenticated' });
    const third = await begin();
    const other = sessionTokenHash(createSessionToken());
    await expect(complete(third.challenge?.id as string, proof, other)).rejects.toMatchObject({
      code: 'unauthenticated',
    });
    expect(await stack.db.owner`SELECT 1 FROM sessions`).toHaveLength(1);
    await stack.db.owner`DELETE FROM sessions`;
    await stack.db.owner`DELETE FROM signin_throttle`;
  });

  it('refuses a rehash, even one the password signed, for a verifier whose parameters are not stale', async () => {
    const admin = stack.ceremony.request.admin;
    const lookup = await callVault(stack.adminBus, 'signin.begin', {
      v: 1,
      email: ADMIN_EMAIL,
      origin: 'test',
    });
    const challenge = lookup.challenge as { id: string; nonce: string };
    const { authKey } = await unlockWithPassword(ADMIN_PASSWORD, admin.passwordVerifier);
    const fresh = await enrollPassword('some-other-password-4471-harbour');
    fresh.kek.destroy();
    const session = sessionTokenHash(createSessionToken());
    const request = {
      v: 1 as const,
      userId: admin.id,
      challengeId: challenge.id,
      session,
      sessionId: newRecordId(),
      wrappedKey: Buffer.alloc(64).toString('base64'),
      origin: 'test',
      rehash: { verifier: fresh.verifier, wrappedPrivateKey: Buffer.alloc(64).toString('base64') },
    };
    const proof = signPasswordProof(authKey, challenge, [
      admin.id,
      session,
      adminRequestDigest('signin.complete', request),
    ]);
    await expect(callVault(stack.adminBus, 'signin.complete', { ...request, proof })).rejects.toMatchObject({
      code: 'bad-request',
    });
    const [row] = await stack.db.owner`SELECT password_verifier FROM users WHERE id = ${admin.id}`;
    expect(row?.password_verifier).toBe(admin.passwordVerifier);
    expect(await stack.db.owner`SELECT 1 FROM sessions WHERE token_hash = ${session}`).toHaveLength(0);
    await stack.db.owner`DELETE FROM signin_throttle`;
  });

  it('does not audit a stranger’s junk cookie, only a live session’s refusals', async () => {
    const before = await auditCount('export');
    for (let i = 0; i < 5; i++) {
      const res = await stack.app.inject({
        method: 'POST',
        url: '/api/exports',
        headers: { cookie: `__Host-coffer=${createSessionToken()}` },
        payload: { reason: 'flood' },
      });
      expect(res.statusCode).toBe(403);
    }
    expect(await auditCount('export')).toBe(before);
    const me = await signIn(stack.app);
    await stack.app.inject({
      method: 'POST',
      url: '/api/exports',
      headers: { cookie: me.cookie },
      payload: { reason: 'no csrf' },
    });
    expect(await auditCount('export')).toBe(before + 1);
  });

  it('serves export pages only inside an export this session began, and audits an aborted one', async () => {
    const me = await signIn(stack.app);
    const session = sessionTokenHash(me.token);
    await expect(
      callVault(stack.adminBus, 'export.page', { v: 1, session, exportId: newRecordId(), limit: 10 }),
    ).rejects.toMatchObject({
      code: 'not-found',
    });
    await expect(
      callVault(stack.adminBus, 'export.finish', {
        v: 1,
        session,
        exportId: newRecordId(),
        count: 0,
        outcome: 'success',
        origin: 'x',
      }),
    ).rejects.toMatchObject({ code: 'not-found' });
    // Stream an export but stop reading after the first chunk.
    const res = await fetch(`${await stack.app.listen({ host: '127.0.0.1', port: 0 })}/api/exports`, {
      method: 'POST',
      headers: { cookie: me.cookie, 'x-coffer-csrf': me.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'aborted export test' }),
    });
    const reader = res.body?.getReader();
    await reader?.read();
    await reader?.cancel();
    // The admin plane notices the cancelled stream and records the end: 30 s on a loaded machine.
    const deadline = Date.now() + 30_000;
    let finished: { details: { aborted?: boolean } }[] = [];
    while (Date.now() < deadline && finished.length === 0) {
      finished = (await stack.db.owner`SELECT details FROM audit_events WHERE action = 'export.finish'`) as never;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(finished).toHaveLength(1);
    expect(finished[0]?.details.aborted).toBe(true);
  });

  it('locks an unknown email exactly like a known one, so the lockout tells nothing', async () => {
    const codes = async (email: string) => {
      const out: number[] = [];
      for (let i = 0; i < 11; i++) out.push((await attempt(email, `guess-${i}`)).statusCode);
      return out;
    };
    const unknown = await codes('nobody-here@example.com');
    expect(unknown).toEqual([...Array(10).fill(401), 423]);
  });

  it('cannot be outrun by parallel guesses: at most ten attempts reach the password check', async () => {
    const burst = await Promise.all([
      ...Array.from({ length: 30 }, (_, i) => attempt(ADMIN_EMAIL, `parallel-wrong-${i}`)),
      attempt(ADMIN_EMAIL, ADMIN_PASSWORD),
    ]);
    const codes = burst.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 401 || c === 200).length).toBeLessThanOrEqual(10);
    expect(codes.filter((c) => c === 423).length).toBeGreaterThanOrEqual(21);
    expect((await attempt(ADMIN_EMAIL, ADMIN_PASSWORD)).statusCode).toBe(423);
  });
});
