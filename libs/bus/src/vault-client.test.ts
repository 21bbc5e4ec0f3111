import { ADMIN_OPERATIONS, type AdminOperation, encodeJson, MalformedReply, UnknownOperation } from '@coffer/protocol';
import { sampleRequest, sampleResult } from '@coffer/protocol/testing';
import { describe, expect, it } from 'vitest';
import { InProcessBus } from './in-process-bus.ts';
import { callVault, VaultRefused } from './vault-client.ts';

/** A bus whose vault answers every operation with `answer(op)`, recording the subjects asked. */
function vaultAnswering(answer: (op: string) => Uint8Array) {
  const bus = new InProcessBus();
  const asked: string[] = [];
  bus.serve(`${bus.names.admin}.>`, async (_data, subject) => {
    const op = subject.slice(bus.names.admin.length + 1);
    asked.push(op);
    return answer(op);
  });
  return { bus, asked };
}

const ok = (result: unknown) => encodeJson(result === undefined ? { v: 1, ok: true } : { v: 1, ok: true, result });
const ops = ADMIN_OPERATIONS.map((op) => [op] as [AdminOperation]);

describe('callVault, per contract entry', () => {
  it.each(ops)('%s: returns a reply that matches the table', async (op) => {
    const { bus, asked } = vaultAnswering((o) => ok(sampleResult(o as AdminOperation)));
    await expect(callVault(bus, op, sampleRequest(op))).resolves.toEqual(sampleResult(op));
    expect(asked).toEqual([op]);
  });

  it.each(ops)('%s: refuses a malformed reply with MalformedReply', async (op) => {
    const good = sampleResult(op);
    const replies = [
      new TextEncoder().encode('not json'),
      encodeJson({ v: 2, ok: true, result: good }),
      encodeJson({ v: 1, ok: 'yes', result: good }),
      ok('not a reply'),
      ok(42),
      ...(good && typeof good === 'object' ? Object.keys(good).map((k) => ok({ ...good, [k]: undefined })) : []),
      ...(good === undefined ? [] : [ok(undefined)]),
    ];
    for (const reply of replies) {
      const { bus } = vaultAnswering(() => reply);
      await expect(callVault(bus, op, sampleRequest(op))).rejects.toBeInstanceOf(MalformedReply);
    }
  });

  it.each(ops)('%s: a malformed request comes back as the vault’s named refusal', async (op) => {
    const { bus } = vaultAnswering(() =>
      encodeJson({ v: 1, ok: false, error: 'bad-request', detail: 'invalid at /v' }),
    );
    await expect(callVault(bus, op, { ...sampleRequest(op), v: 2 } as never)).rejects.toMatchObject({
      name: 'VaultRefused',
      code: 'bad-request',
    });
  });

  it.each(ops)('%s: an unknown operation is refused before anything is sent', async (op) => {
    const { bus, asked } = vaultAnswering((o) => ok(sampleResult(o as AdminOperation)));
    for (const unknown of [`${op}.x`, op.toUpperCase(), 'constructor']) {
      await expect(callVault(bus, unknown as AdminOperation, sampleRequest(op))).rejects.toBeInstanceOf(
        UnknownOperation,
      );
    }
    expect(asked).toEqual([]);
  });
});

describe('callVault', () => {
  it('passes a refusal on with its code and detail', async () => {
    const { bus } = vaultAnswering(() => encodeJson({ v: 1, ok: false, error: 'forbidden', detail: 'no' }));
    const err = await callVault(bus, 'whoami', sampleRequest('whoami')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultRefused);
    expect(err).toMatchObject({ code: 'forbidden', detail: 'no' });
  });
});
