/**
 * Checking messages against the contract table, shared by the client and the vault's router.
 * Each schema is compiled once, on first use; errors are named values (jose-style, one class per
 * kind) whose messages name where the message is wrong and never quote it.
 */
import type { TSchema } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { AdminContract, type AdminOperation, type AdminRequest, type AdminResult } from './admin-contract.ts';
import { REPLY_NONCE, REPLY_NONCE_PATTERN } from './admin-messages.ts';

/** An operation that is not in the contract table. */
export class UnknownOperation extends Error {
  override readonly name = 'UnknownOperation';
  readonly code = 'unknown-operation';
}

/** A request that does not match its operation's schema (the vault answers `bad-request`). */
export class MalformedRequest extends Error {
  override readonly name = 'MalformedRequest';
  readonly code = 'bad-request';
}

/** A reply that does not match its operation's reply schema: the vault (or the bus) misbehaved. */
export class MalformedReply extends Error {
  override readonly name = 'MalformedReply';
  readonly code = 'malformed-reply';
}

const compiled = new Map<TSchema, TypeCheck<TSchema>>();
function checker(schema: TSchema): TypeCheck<TSchema> {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check;
}

/** Where a value first departs from a schema, or undefined when it matches. */
function firstError(schema: TSchema, value: unknown): string | undefined {
  const check = checker(schema);
  if (check.Check(value)) return undefined;
  const first = check.Errors(value).First();
  return first ? `invalid at ${first.path || '/'}: ${first.message}` : 'invalid message';
}

export function contractEntry(op: string) {
  if (!Object.hasOwn(AdminContract, op)) throw new UnknownOperation(`no operation ${JSON.stringify(op.slice(0, 64))}`);
  return AdminContract[op as AdminOperation];
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Parse and check one request; throws UnknownOperation or MalformedRequest. */
export function decodeAdminRequest<Op extends AdminOperation>(op: Op, bytes: Uint8Array): AdminRequest<Op> {
  return decodeNoncedAdminRequest(op, bytes).request;
}

/**
 * Parse one request as the vault's router receives it: the request, checked against its schema,
 * and the `replyNonce` the client added (taken off first), if any.
 */
export function decodeNoncedAdminRequest<Op extends AdminOperation>(
  op: Op,
  bytes: Uint8Array,
): { request: AdminRequest<Op>; nonce: string | undefined } {
  const { request } = contractEntry(op);
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new MalformedRequest('not UTF-8 JSON');
  }
  let nonce: string | undefined;
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && Object.hasOwn(parsed, REPLY_NONCE)) {
    const { [REPLY_NONCE]: value, ...rest } = parsed as Record<string, unknown>;
    if (typeof value !== 'string' || !REPLY_NONCE_PATTERN.test(value)) {
      throw new MalformedRequest(`invalid at /${REPLY_NONCE}: 16 bytes of base64url expected`);
    }
    nonce = value;
    parsed = rest;
  }
  const error = firstError(request, parsed);
  if (error) throw new MalformedRequest(error);
  return { request: parsed as AdminRequest<Op>, nonce };
}

/** Check one reply's result against its operation; throws MalformedReply. */
export function checkAdminResult<Op extends AdminOperation>(op: Op, result: unknown): AdminResult<Op> {
  const { reply } = contractEntry(op);
  const error = firstError(reply, result);
  if (error) throw new MalformedReply(`${op}: ${error}`);
  return result as AdminResult<Op>;
}
