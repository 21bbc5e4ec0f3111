/**
 * The vault's side of `vault.admin.*`, typed over the contract table in @coffer/protocol: for
 * each request it finds the operation, decodes the request once against its schema, applies the
 * operation's policy (the one place that checks sessions, roles and MFA), and only then runs the
 * handler. Unknown operations, malformed requests and refusals are named error replies, never an
 * exception on the bus. Anything every operation must do goes here: every reply, refusals
 * included, to a request carrying a `replyNonce` is signed by the vault's reply key (signer).
 */
import {
  type AdminOperation,
  type AdminPolicy,
  type AdminReply,
  type AdminRequest,
  type AdminResult,
  attachmentOf,
  contractEntry,
  decodeNoncedAdminRequest,
  encodeJson,
  encodeReplyFrame,
  MalformedRequest,
  type Policy,
  ProtocolError,
  REPLY_NONCE,
  REPLY_NONCE_PATTERN,
  replyFrameBody,
  UnknownOperation,
} from '@coffer/protocol';
import type postgres from 'postgres';
import type { Caller } from './caller.ts';

export class AdminError extends Error {
  override readonly name = 'AdminError';
  readonly code: string;

  constructor(code: string, detail: string) {
    super(detail);
    this.code = code;
  }
}

/**
 * What a handler runs with: the time of the request, as its policy says the caller, and for the
 * operations run in one transaction (see `oneTransaction`) the transaction the gate already used.
 */
export type AdminContext<P = Policy> = (P extends { session: 'required' }
  ? { readonly now: Date; readonly caller: Caller }
  : P extends { session: 'optional' }
    ? { readonly now: Date; readonly caller: Caller | undefined }
    : { readonly now: Date }) & { readonly tx?: postgres.TransactionSql | undefined };

/** The context of operation `Op`'s handler. */
export type OpContext<Op extends AdminOperation> = AdminContext<AdminPolicy<Op>>;

export type AdminHandler<Op extends AdminOperation> = (
  request: AdminRequest<Op>,
  context: AdminContext<AdminPolicy<Op>>,
) => Promise<AdminResult<Op> extends undefined ? void : AdminResult<Op>>;

/** One handler per operation of the table: a missing one is a type error. */
export type AdminHandlers = { readonly [Op in AdminOperation]: AdminHandler<Op> };

/**
 * Applies a policy to a decoded request: the caller it admits, or an AdminError. With `tx`, it
 * does its reads, the session touch and any refusal's audit in that transaction.
 */
export type PolicyGate = (
  policy: Policy,
  request: Readonly<Record<string, unknown>>,
  now: Date,
  tx?: postgres.TransactionSql,
) => Promise<{ caller?: Caller | undefined }>;

/** Runs the gate and the handler of one request in one database transaction (policy.ts makes it). */
export type OneTransaction = <T>(run: (tx: postgres.TransactionSql) => Promise<T>) => Promise<T>;

export interface AdminRouterOptions {
  /** The subject prefix, `vault.admin` (namespaced in tests). */
  readonly prefix: string;
  readonly handlers: AdminHandlers;
  readonly gate: PolicyGate;
  readonly clock: () => Date;
  readonly log: (msg: string) => void;
  /** Signs replies (absent in unit tests: replies go unsigned). */
  readonly signer?: {
    seal(op: string, request: Uint8Array, reply: Uint8Array): Promise<Uint8Array>;
    /** A reply frame around `body` (protocol reply-frame.ts), signed once the key is certified. */
    sealFrame(op: string, request: Uint8Array, body: Uint8Array): Promise<Uint8Array>;
  };
  /**
   * Operations whose gate and handler share one transaction, so that they commit once: a reveal
   * touches the session and writes its audit event in one commit (issue 14 item 4).
   */
  readonly oneTransaction?: { readonly ops: ReadonlySet<AdminOperation>; readonly run: OneTransaction };
}

/** Run one operation from its request bytes, as the router does, and return its result. */
export function adminDispatcher(options: Omit<AdminRouterOptions, 'prefix' | 'log' | 'signer'>) {
  const run = operationRunner(options);
  return async <Op extends AdminOperation>(op: Op, data: Uint8Array): Promise<AdminResult<Op>> =>
    run(op, decodeNoncedAdminRequest(op, data).request);
}

function operationRunner(options: Omit<AdminRouterOptions, 'prefix' | 'log' | 'signer'>) {
  return async <Op extends AdminOperation>(op: Op, request: AdminRequest<Op>): Promise<AdminResult<Op>> => {
    const { policy } = contractEntry(op);
    const now = options.clock();
    const handler = options.handlers[op] as unknown as (r: unknown, c: unknown) => Promise<AdminResult<Op>>;
    const handle = async (tx?: postgres.TransactionSql) => {
      const { caller } = await options.gate(policy, request as Record<string, unknown>, now, tx);
      return handler(request, { now, caller, ...(tx ? { tx } : {}) });
    };
    const together = options.oneTransaction;
    return together?.ops.has(op) ? together.run(handle) : handle();
  };
}

/** Whether a request the router could not decode still asked for a signed reply. */
function askedForSignature(data: Uint8Array): boolean {
  try {
    const parsed = JSON.parse(new TextDecoder().decode(data)) as Record<string, unknown> | null;
    const nonce = parsed?.[REPLY_NONCE];
    return typeof nonce === 'string' && REPLY_NONCE_PATTERN.test(nonce);
  } catch {
    return false;
  }
}

export function adminRouter(options: AdminRouterOptions): (data: Uint8Array, subject: string) => Promise<Uint8Array> {
  const run = operationRunner(options);
  return async (data, subject) => {
    const op = subject.slice(options.prefix.length + 1);
    let reply: AdminReply;
    let signed = false;
    let attachment: Uint8Array | undefined;
    try {
      const decoded = decodeNoncedAdminRequest(op as AdminOperation, data);
      signed = decoded.nonce !== undefined;
      const result = await run(op as AdminOperation, decoded.request);
      attachment = attachmentOf(result);
      reply = result === undefined ? { v: 1, ok: true } : { v: 1, ok: true, result };
    } catch (err) {
      if (!signed) signed = askedForSignature(data);
      if (err instanceof AdminError) reply = { v: 1, ok: false, error: err.code, detail: err.message };
      else if (err instanceof UnknownOperation) reply = { v: 1, ok: false, error: err.code };
      else if (err instanceof MalformedRequest || err instanceof ProtocolError)
        reply = { v: 1, ok: false, error: 'bad-request', detail: err.message };
      else {
        options.log(`admin ${op.slice(0, 64)} failed: ${(err as Error).message}`);
        reply = { v: 1, ok: false, error: 'internal' };
      }
    }
    const bytes = encodeJson(reply);
    // Signed over the exact request bytes received: the client checks it against what it sent.
    if (attachment) {
      // Bytes beside the JSON (an export page) travel in a frame, as they are (reply-frame.ts).
      const body = replyFrameBody(bytes, attachment);
      return signed && options.signer ? options.signer.sealFrame(op, data, body) : encodeReplyFrame(body);
    }
    return signed && options.signer ? options.signer.seal(op, data, bytes) : bytes;
  };
}
