import { certifyVaultReplyKey, PrivateKey, signVaultReplyFrame } from '@coffer/crypto';
import { encodeExportPage, encodeJson, encodeReplyFrame, MalformedReply, replyFrameBody } from '@coffer/protocol';
import { describe, expect, it } from 'vitest';
import { InProcessBus } from './in-process-bus.ts';
import { trustVaultReplies, VaultReplyUnauthenticated } from './reply-trust.ts';
import { callVault, callVaultAttached, VaultRefused } from './vault-client.ts';

const org = PrivateKey.generate('ed25519');
const replyKey = PrivateKey.generate('ed25519');
const certificate = Buffer.from(certifyVaultReplyKey(org, replyKey.publicKey), 'base64url');
const result = { done: true, wrappedDataKeys: {} };
const page = encodeExportPage([]);
const request = { v: 1 as const, session: 'ab'.repeat(32), exportId: '00000000-0000-4000-8000-000000000000', limit: 1 };

interface Options {
  readonly key?: PrivateKey<'ed25519'>;
  readonly cert?: Buffer;
  readonly unsigned?: boolean;
  /** Changes the frame after it was signed. */
  readonly tamper?: (frame: Buffer) => void;
  /** Signs for this request instead of the one received. */
  readonly signedFor?: Uint8Array;
  readonly reply?: Uint8Array;
  readonly attachment?: Uint8Array;
}

/** A vault answering export.block with a frame as its router makes one; `trust` as an admin plane's. */
function framing(options: Options = {}, trust: { acceptUnsigned?: boolean } | null = {}) {
  const bus = new InProcessBus();
  bus.serve(`${bus.names.admin}.>`, async (data, subject) => {
    const op = subject.slice(bus.names.admin.length + 1);
    const body = replyFrameBody(options.reply ?? encodeJson({ v: 1, ok: true, result }), options.attachment ?? page);
    const key = options.key ?? replyKey;
    const frame = options.unsigned
      ? encodeReplyFrame(body)
      : encodeReplyFrame(body, {
          key: Buffer.from(key.publicKey.toBase64url(), 'base64url'),
          certificate: options.cert ?? certificate,
          signature: signVaultReplyFrame(key, op, options.signedFor ?? data, body),
        });
    options.tamper?.(frame);
    return frame;
  });
  if (trust) trustVaultReplies(bus, { trustRoot: org.publicKey, ...trust });
  return bus;
}

const refused = (bus: InProcessBus) =>
  expect(callVaultAttached(bus, 'export.block', request)).rejects.toBeInstanceOf(VaultReplyUnauthenticated);

describe('callVaultAttached: reply frames (issue 14)', () => {
  it('reads a frame signed for this request by a certified key: the result and the page as sent', async () => {
    const got = await callVaultAttached(framing(), 'export.block', request);
    expect(got.result).toEqual(result);
    expect(got.attachment.equals(page)).toBe(true);
  });

  it('refuses a changed page byte, a changed JSON byte, a cut frame, and a frame signed for another request', async () => {
    const flip = (at: (f: Buffer) => number) => (f: Buffer) => f.writeUInt8(f.readUInt8(at(f)) ^ 1, at(f));
    await refused(framing({ tamper: flip((f) => f.length - 1) }));
    await refused(framing({ tamper: flip(() => 3 + 160 + 4 + 10) }));
    const bus = framing({ signedFor: encodeJson({ ...request, replyNonce: 'A'.repeat(22) }) });
    await refused(bus);
    const cut = new InProcessBus();
    cut.serve(`${cut.names.admin}.>`, async () => Buffer.from([0, 3, 1, 0, 0]));
    trustVaultReplies(cut, { trustRoot: org.publicKey });
    await refused(cut);
  });

  it('refuses a key another root certified, and an unsigned frame unless told to accept unsigned replies', async () => {
    const rogue = PrivateKey.generate('ed25519');
    const rogueCert = Buffer.from(certifyVaultReplyKey(PrivateKey.generate('ed25519'), rogue.publicKey), 'base64url');
    await refused(framing({ key: rogue, cert: rogueCert }));
    // The genuine certificate beside a key it does not certify.
    await refused(framing({ key: rogue }));
    await refused(framing({ unsigned: true }));
    const accepted = await callVaultAttached(
      framing({ unsigned: true }, { acceptUnsigned: true }),
      'export.block',
      request,
    );
    expect(accepted.attachment.equals(page)).toBe(true);
    // A bus without a trust root reads frames as before trust existed.
    expect((await callVaultAttached(framing({ unsigned: true }, null), 'export.block', request)).result).toEqual(
      result,
    );
  });

  it('a refusal in a frame is the vault’s refusal; a result without its bytes, or bytes nobody asked for, is malformed', async () => {
    const no = encodeJson({ v: 1, ok: false, error: 'forbidden', detail: 'no' });
    await expect(callVaultAttached(framing({ reply: no }), 'export.block', request)).rejects.toBeInstanceOf(
      VaultRefused,
    );
    const bare = new InProcessBus();
    bare.serve(`${bare.names.admin}.>`, async () => encodeJson({ v: 1, ok: true, result }));
    await expect(callVaultAttached(bare, 'export.block', request)).rejects.toBeInstanceOf(MalformedReply);
    await expect(callVault(framing(), 'export.block', request)).rejects.toBeInstanceOf(MalformedReply);
  });
});
