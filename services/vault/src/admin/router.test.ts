import {
  ADMIN_OPERATIONS,
  AdminContract,
  type AdminOperation,
  AdminReply,
  decodeJson,
  encodeJson,
  type Policy,
  ProtocolError,
} from '@coffer/protocol';
import { sampleRequest } from '@coffer/protocol/testing';
import { describe, expect, it } from 'vitest';
import type { Caller } from './policy.ts';
import { AdminError, type AdminHandlers, adminRouter, type PolicyGate } from './router.ts';

const caller: Caller = {
  sessionId: 's',
  userId: 'u',
  email: 'a@example.com',
  role: 'key-admin',
  status: 'active',
  wrappedKey: Buffer.alloc(0),
  mfa: false,
  passkey: false,
  totp: false,
};

/** A router whose handlers echo their operation and whose gate admits everyone, or (refuse) no one signed in. */
function harness(overrides: Partial<Record<AdminOperation, (req: unknown) => Promise<unknown>>> = {}, refuse = false) {
  const handled: { op: string; request: unknown; context: unknown }[] = [];
  const gated: { policy: Policy; request: unknown }[] = [];
  const logged: string[] = [];
  const handlers = Object.fromEntries(
    ADMIN_OPERATIONS.map((op) => [
      op,
      async (request: unknown, context: unknown) => {
        handled.push({ op, request, context });
        return overrides[op] ? overrides[op](request) : { handledBy: op };
      },
    ]),
  ) as unknown as AdminHandlers;
  const gate: PolicyGate = async (policy, request) => {
    gated.push({ policy, request });
    if (refuse && policy.session === 'required') throw new AdminError('forbidden', 'refused by policy');
    return policy.session === 'none' ? {} : { caller };
  };
  const route = adminRouter({
    prefix: 'vault.admin',
    handlers,
    gate,
    clock: () => new Date('2026-01-02T03:04:05Z'),
    log: (msg) => logged.push(msg),
  });
  const call = async (op: string, body: unknown = { v: 1 }) =>
    decodeJson(AdminReply, await route(body instanceof Uint8Array ? body : encodeJson(body), `vault.admin.${op}`));
  return { call, handled, gated, logged };
}

const ops = ADMIN_OPERATIONS.map((op) => [op] as [AdminOperation]);

describe('admin router', () => {
  it('answers each operation with its own handler', async () => {
    const { call } = harness({ status: async () => ({ bytes: 3 }) });
    expect(await call('status')).toEqual({ v: 1, ok: true, result: { bytes: 3 } });
  });

  it('turns refusals into named error replies, never exceptions on the bus', async () => {
    const { call } = harness({
      'recovery.begin': async () => {
        throw new AdminError('already-initialised', 'this vault is already initialised');
      },
      'invites.lookup': async () => {
        throw new ProtocolError('invalid at /v');
      },
    });
    expect(await call('recovery.begin', sampleRequest('recovery.begin'))).toEqual({
      v: 1,
      ok: false,
      error: 'already-initialised',
      detail: 'this vault is already initialised',
    });
    expect(await call('invites.lookup', sampleRequest('invites.lookup'))).toEqual({
      v: 1,
      ok: false,
      error: 'bad-request',
      detail: 'invalid at /v',
    });
    expect(await call('nope')).toEqual({ v: 1, ok: false, error: 'unknown-operation' });
    expect(await call('constructor')).toEqual({ v: 1, ok: false, error: 'unknown-operation' });
  });

  it('hides internal failures from the caller and logs them', async () => {
    const { call, logged } = harness({
      status: async () => {
        throw new Error('connection reset; secret-ish internals');
      },
    });
    expect(await call('status')).toEqual({ v: 1, ok: false, error: 'internal' });
    expect(logged.at(-1)).toContain('connection reset');
  });
});

describe('admin router, per contract entry', () => {
  it.each(ops)('%s: decodes once, applies its policy, then runs its handler', async (op) => {
    const { call, handled, gated } = harness();
    const request = sampleRequest(op);
    expect(await call(op, request)).toEqual({ v: 1, ok: true, result: { handledBy: op } });
    expect(gated).toEqual([{ policy: AdminContract[op].policy, request }]);
    expect(handled).toHaveLength(1);
    expect(handled[0]?.request).toEqual(request);
    const context = handled[0]?.context as { now: Date; caller?: Caller };
    expect(context.now.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(context.caller).toEqual(AdminContract[op].policy.session === 'none' ? undefined : caller);
  });

  it.each(ops)('%s: an unknown operation is refused by name', async (op) => {
    const { call, handled, gated } = harness();
    for (const unknown of [`${op}.x`, op.toUpperCase(), `${op}-`]) {
      expect(await call(unknown, sampleRequest(op))).toEqual({ v: 1, ok: false, error: 'unknown-operation' });
    }
    expect(gated).toHaveLength(0);
    expect(handled).toHaveLength(0);
  });

  it.each(ops)('%s: a malformed request is refused as bad-request before policy and handler', async (op) => {
    const { call, handled, gated } = harness();
    const good = sampleRequest(op) as Record<string, unknown>;
    for (const body of [new TextEncoder().encode('\u0000\u0000'), { ...good, v: 2 }, { ...good, extra: 1 }]) {
      expect(await call(op, body)).toMatchObject({ v: 1, ok: false, error: 'bad-request' });
    }
    expect(gated).toHaveLength(0);
    expect(handled).toHaveLength(0);
  });

  it.each(ops.filter(([op]) => AdminContract[op].policy.session === 'required'))(
    '%s: a policy refusal stops the handler',
    async (op) => {
      const { call, handled } = harness({}, true);
      expect(await call(op, sampleRequest(op))).toEqual({
        v: 1,
        ok: false,
        error: 'forbidden',
        detail: 'refused by policy',
      });
      expect(handled).toHaveLength(0);
    },
  );
});
