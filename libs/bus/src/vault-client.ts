/** Calls to the vault's admin API over the bus, as the admin plane (and this CLI) make them. */

import { AdminReply, decodeJson, encodeJson } from '@coffer/protocol';
import type { Bus } from './bus.ts';

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

export async function callVault<T>(bus: Bus, operation: string, body: unknown = { v: 1 }): Promise<T> {
  const reply = decodeJson(AdminReply, await bus.request(`${bus.names.admin}.${operation}`, encodeJson(body), 15_000));
  if (!reply.ok) throw new VaultRefused(reply.error, reply.detail);
  return reply.result as T;
}

export interface OrgStatus {
  readonly initialised: boolean;
  readonly trustRoot: string | null;
}

export const orgStatus = (bus: Bus) => callVault<OrgStatus>(bus, 'status');
