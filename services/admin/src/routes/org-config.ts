/**
 * POST /api/org/suite {suite}: a key-admin moves the org's new keys to another suite (issue 15,
 * item 3) — in practice an org made as X25519 to X-Wing. The stored configuration is checked
 * against the pinned trust root first (and against the newest data key, so a restored old one is
 * no base for a downgrade); the next version is signed by the org key through the caller's session
 * and the vault stores it only if it verifies, is newer, and is no downgrade. Keys already made are
 * untouched: rotate (POST /api/keys/rotate) for an X-Wing current key, then `coffer reseal --suite`.
 */
import { callVault } from '@coffer/bus';
import { nextOrgConfig, type SignedOrgConfig, SuiteRefused } from '@coffer/keyring';
import { SuiteName } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import { withSessionHolder } from '../session-holder.ts';
import type { AdminDeps } from './deps.ts';
import { sendSuiteRefused } from './problems.ts';

const Body = Type.Object({ suite: SuiteName }, { additionalProperties: false });

export const orgConfigRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  const route = { schema: { body: Body }, config: { action: 'org.config', csrf: true } };
  app.post('/api/org/suite', route, async (req, reply) => {
    const { session } = req;
    const m = await callVault(deps.bus, 'keys.material', { v: 1, session: session.hash });
    let next: SignedOrgConfig;
    try {
      next = withSessionHolder(session.token, m.session, (holder) =>
        nextOrgConfig(holder, m, deps.trustRoot, req.body.suite),
      );
    } catch (err) {
      if (!(err instanceof SuiteRefused)) throw err;
      return sendSuiteRefused(req, reply, err, 'The suite was not changed');
    }
    const stored = await callVault(deps.bus, 'org.config.store', {
      v: 1,
      session: session.hash,
      config: next.config,
      signature: next.signature,
      origin: originOf(req),
    });
    return reply.send({ ...stored, from: next.from });
  });
};
