/**
 * The vault's side of `vault.admin.*`: one handler per operation, each decoding its own request.
 * Unknown operations and malformed requests get an error reply, never an exception on the bus.
 */
import { type AdminReply, encodeJson, ProtocolError } from '@coffer/protocol';

export class AdminError extends Error {
  override readonly name = 'AdminError';
  readonly code: string;

  constructor(code: string, detail: string) {
    super(detail);
    this.code = code;
  }
}

export type AdminHandler = (request: Uint8Array) => Promise<unknown>;

export function adminRouter(
  prefix: string,
  handlers: Record<string, AdminHandler>,
  log: (msg: string) => void,
): (data: Uint8Array, subject: string) => Promise<Uint8Array> {
  return async (data, subject) => {
    const operation = subject.slice(prefix.length + 1);
    const handler = Object.hasOwn(handlers, operation) ? handlers[operation] : undefined;
    let reply: AdminReply;
    if (!handler) {
      reply = { v: 1, ok: false, error: 'unknown-operation' };
    } else {
      try {
        const result = await handler(data);
        reply = result === undefined ? { v: 1, ok: true } : { v: 1, ok: true, result };
      } catch (err) {
        if (err instanceof AdminError) reply = { v: 1, ok: false, error: err.code, detail: err.message };
        else if (err instanceof ProtocolError) reply = { v: 1, ok: false, error: 'bad-request', detail: err.message };
        else {
          log(`admin ${operation} failed: ${(err as Error).message}`);
          reply = { v: 1, ok: false, error: 'internal' };
        }
      }
    }
    return encodeJson(reply);
  };
}
