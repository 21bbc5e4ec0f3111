/**
 * The routes that only read something about the session's holder: GET, the session's hash to the
 * vault, the vault's answer as it is, never cached.
 */
import { callVault } from '@coffer/bus';
import type { AdminOperation, AdminRequest } from '@coffer/protocol';
import type { AdminApp, AdminDeps } from './deps.ts';

/** An operation whose whole request is `{v: 1, session}`. */
type SessionOnlyOp = {
  [Op in AdminOperation]: AdminRequest<Op> extends { v: 1; session: string }
    ? { v: 1; session: string } extends AdminRequest<Op>
      ? Op
      : never
    : never;
}[AdminOperation];

export function sessionRead(app: AdminApp, deps: AdminDeps, url: string, action: string, op: SessionOnlyOp): void {
  app.get(url, { config: { action } }, async (req, reply) =>
    reply
      .header('cache-control', 'no-store')
      .send(await callVault(deps.bus, op, { v: 1, session: req.session.hash } as AdminRequest<typeof op>)),
  );
}
