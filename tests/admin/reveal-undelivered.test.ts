/**
 * A reveal the vault released but the admin plane never received (issue 9 item 4d): the audit
 * must not read as if the person got the value. The admin plane names each reveal with a request
 * id; when it times out it reports the request undelivered, and the vault audits
 * `record.reveal.undelivered` (released: true) and never releases that request afterwards.
 */
import { adminLogger, buildAdmin } from '@coffer/admin';
import { type Bus, BusUnavailableError, callVault } from '@coffer/bus';
import { PublicKey, sessionTokenHash } from '@coffer/crypto';
import { natsForTests, postgresAvailable } from '@coffer/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminStack, call, signIn, startAdminStack } from '../support/admin-stack.ts';
import { waitFor } from '../support/http.ts';

const available = (await postgresAvailable()) && (await natsForTests()) !== undefined;

/** The admin plane's bus, except that every reveal's answer is lost after the vault sent it. */
function losingRevealAnswers(bus: Bus): Bus {
  return new Proxy(bus, {
    get(target, prop, receiver) {
      if (prop === 'request') {
        return async (subject: string, data: Uint8Array, timeoutMs?: number) => {
          const answer = await target.request(subject, data, timeoutMs);
          if (subject.endsWith('.records.reveal')) throw new BusUnavailableError('request timed out');
          return answer;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe.skipIf(!available)('a reveal released but not delivered', () => {
  let stack: AdminStack;
  let lossy: FastifyInstance;
  let recordId: string;
  beforeAll(async () => {
    stack = await startAdminStack();
    recordId = await stack.addRecord('ssn', '078-05-1120');
    lossy = await buildAdmin({
      bus: losingRevealAnswers(stack.adminBus),
      trustRoot: PublicKey.fromBase64url('ed25519', stack.ceremony.trustRoot),
      log: adminLogger(process.stderr),
      signinPerMinute: 1000,
      now: stack.now,
    });
    lossy.log.level = 'silent';
  });
  afterAll(async () => {
    await lossy?.close();
    await stack?.close();
  });

  const events = () =>
    stack.db.owner<{ action: string; outcome: string; details: Record<string, unknown> | null }[]>`
      SELECT action, outcome, details FROM audit_events WHERE action LIKE 'record.reveal%' ORDER BY seq`;

  it('audits record.reveal.undelivered (released: true) after the released reveal the admin plane timed out on', async () => {
    const who = await signIn(lossy);
    const res = await call(lossy, who, 'POST', `/api/records/${recordId}/reveal`, { reason: 'ticket 77' });
    expect(res.statusCode).toBe(503);
    expect(res.body).not.toContain('078-05-1120');
    const trail = await waitFor('the undelivered event', async () => {
      const all = await events();
      return all.some((e) => e.action === 'record.reveal.undelivered') && all;
    });
    const [released, undelivered] = trail;
    expect(released).toMatchObject({ action: 'record.reveal', outcome: 'success' });
    const requestId = released?.details?.requestId;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(undelivered).toEqual({
      action: 'record.reveal.undelivered',
      outcome: 'failure',
      details: { requestId, released: true, error: 'timeout' },
    });
  });

  it('never releases a request after it was given up, nor the same request twice', async () => {
    const session = sessionTokenHash((await signIn(stack.app)).token);
    const reveal = (requestId: string) =>
      callVault(stack.adminBus, 'records.reveal', {
        v: 1,
        session,
        recordId,
        reason: 'ticket 78',
        origin: 'test',
        requestId,
      });
    const late = '0190a0a0-0000-7000-8000-000000000078';
    await callVault(stack.adminBus, 'records.reveal-undelivered', {
      v: 1,
      session,
      recordId,
      requestId: late,
      error: 'timeout',
      origin: 'test',
    });
    await expect(reveal(late)).rejects.toMatchObject({ code: 'conflict' });
    expect((await events()).at(-1)).toMatchObject({
      action: 'record.reveal.undelivered',
      details: { requestId: late, released: false },
    });
    const once = '0190a0a0-0000-7000-8000-000000000079';
    expect((await reveal(once)).record.id).toBe(recordId);
    await expect(reveal(once)).rejects.toMatchObject({ code: 'conflict' });
  });
});
