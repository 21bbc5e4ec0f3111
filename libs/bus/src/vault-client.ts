/**
 * The one client of the vault's admin API (`vault.admin.<op>`), as the admin plane and the CLI
 * call it. Request and reply types come from the contract table in @coffer/protocol, and every
 * reply is checked against its schema here: what reaches a caller is what the table says, or a
 * named error. Anything every call must do (authenticating replies, binding requests) goes here:
 * each request carries a fresh `replyNonce`, and the reply's signature is checked (reply-trust.ts)
 * before anything of it is read.
 */
import { randomBytes } from 'node:crypto';
import {
  type AdminOperation,
  AdminReply,
  type AdminRequest,
  type AdminResult,
  checkAdminResult,
  contractEntry,
  decodeJson,
  encodeJson,
  MalformedReply,
  ProtocolError,
  REPLY_NONCE,
} from '@coffer/protocol';
import type { Bus } from './bus.ts';
import { authenticatedReply } from './reply-trust.ts';

/** The vault refused the request; `code` is one of the vault's named errors. */
export class VaultRefused extends Error {
  override readonly name = 'VaultRefused';
  readonly code: string;
  readonly detail: string | undefined;

  constructor(code: string, detail: string | undefined) {
    super(detail ? `${code}: ${detail}` : code);
    this.code = code;
    this.detail = detail;
  }
}

const TIMEOUT_MS = 15_000;

/**
 * Call one operation. Throws UnknownOperation (not in the table), VaultReplyUnauthenticated (the
 * reply is not signed for this request by a certified vault key, when the bus trusts a root),
 * VaultRefused (the vault said no, including `bad-request` for a malformed request),
 * MalformedReply (the answer does not match the table, or carries bytes beside it) or
 * BusUnavailableError.
 */
export async function callVault<Op extends AdminOperation>(
  bus: Bus,
  op: Op,
  request: AdminRequest<Op>,
): Promise<AdminResult<Op>> {
  const { result, attachment } = await exchange(bus, op, request);
  if (attachment !== undefined) throw new MalformedReply(`${op}: an unexpected attachment`);
  return result;
}

/**
 * `callVault` for an operation whose result travels with bytes beside it in a reply frame
 * (`export.block`'s page): the result and those bytes, checked with the frame's signature.
 * MalformedReply if a successful reply carries none.
 */
export async function callVaultAttached<Op extends AdminOperation>(
  bus: Bus,
  op: Op,
  request: AdminRequest<Op>,
): Promise<{ result: AdminResult<Op>; attachment: Buffer }> {
  const { result, attachment } = await exchange(bus, op, request);
  if (attachment === undefined) throw new MalformedReply(`${op}: the reply carries no attachment`);
  return { result, attachment };
}

async function exchange<Op extends AdminOperation>(
  bus: Bus,
  op: Op,
  request: AdminRequest<Op>,
): Promise<{ result: AdminResult<Op>; attachment: Buffer | undefined }> {
  contractEntry(op);
  // A fresh nonce makes these request bytes unique, so an earlier reply's signature never fits.
  const sent = encodeJson({ ...request, [REPLY_NONCE]: randomBytes(16).toString('base64url') });
  const bytes = await bus.request(`${bus.names.admin}.${op}`, sent, TIMEOUT_MS);
  const verified = authenticatedReply(bus, op, sent, bytes);
  let reply: AdminReply;
  try {
    reply = decodeJson(AdminReply, verified.json);
  } catch (err) {
    if (err instanceof ProtocolError) throw new MalformedReply(`${op}: ${err.message}`);
    throw err;
  }
  if (!reply.ok) throw new VaultRefused(reply.error, reply.detail);
  return { result: checkAdminResult(op, reply.result), attachment: verified.attachment };
}

export const orgStatus = (bus: Bus) => callVault(bus, 'status', { v: 1 });
