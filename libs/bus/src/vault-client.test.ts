import { certifyVaultReplyKey, PrivateKey, signVaultReply } from '@coffer/crypto';
import { ADMIN_OPERATIONS, type AdminOperation, encodeJson, MalformedReply, UnknownOperation } from '@coffer/protocol';
import { sampleRequest, sampleResult } from '@coffer/protocol/testing';
import { describe, expect, it } from 'vitest';
import { InProcessBus } from './in-process-bus.ts';
import { trustVaultReplies, VaultReplyUnauthenticated } from './reply-trust.ts';
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

describe('callVault on a bus that trusts a root: signed replies', () => {
  const org = PrivateKey.generate('ed25519');
  const replyKey = PrivateKey.generate('ed25519');
  const certificate = certifyVaultReplyKey(org, replyKey.publicKey);
  const status = { initialised: true, trustRoot: org.publicKey.toBase64url() };
  /** A vault that signs as the router does; `tamper` changes the signed text after signing. */
  const signing = (options: { key?: PrivateKey<'ed25519'>; cert?: string; tamper?: boolean } = {}) => {
    const requests: Uint8Array[] = [];
    const trusted = new InProcessBus();
    trusted.serve(`${trusted.names.admin}.>`, async (data, subject) => {
      requests.push(data);
      const op = subject.slice(trusted.names.admin.length + 1);
      const reply = ok(status);
      const signature = signVaultReply(options.key ?? replyKey, op, data, reply);
      const text = new TextDecoder().decode(reply);
      return encodeJson({
        v: 2,
        reply: options.tamper ? text.replace('true', 'false') : text,
        key: (options.key ?? replyKey).publicKey.toBase64url(),
        certificate: options.cert ?? certificate,
        signature,
      });
    });
    trustVaultReplies(trusted, { trustRoot: org.publicKey });
    return { bus: trusted, requests };
  };

  it('reads a reply signed for this request by a certified key; every request carries a fresh nonce', async () => {
    const { bus, requests } = signing();
    await expect(callVault(bus, 'status', { v: 1 })).resolves.toEqual(status);
    await expect(callVault(bus, 'status', { v: 1 })).resolves.toEqual(status);
    const nonces = requests.map((r) => JSON.parse(new TextDecoder().decode(r)).replyNonce);
    expect(nonces[0]).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(nonces[0]).not.toBe(nonces[1]);
  });

  it('refuses a changed reply, a key another root certified, and an unsigned reply', async () => {
    await expect(callVault(signing({ tamper: true }).bus, 'status', { v: 1 })).rejects.toBeInstanceOf(
      VaultReplyUnauthenticated,
    );
    const rogue = PrivateKey.generate('ed25519');
    const rogueCert = certifyVaultReplyKey(PrivateKey.generate('ed25519'), rogue.publicKey);
    await expect(callVault(signing({ key: rogue, cert: rogueCert }).bus, 'status', { v: 1 })).rejects.toMatchObject({
      code: 'vault-reply-unauthenticated',
    });
    const { bus } = vaultAnswering(() => ok(status));
    trustVaultReplies(bus, { trustRoot: org.publicKey });
    await expect(callVault(bus, 'status', { v: 1 })).rejects.toBeInstanceOf(VaultReplyUnauthenticated);
    trustVaultReplies(bus, { trustRoot: org.publicKey, acceptUnsigned: true });
    await expect(callVault(bus, 'status', { v: 1 })).resolves.toEqual(status);
  });
});
