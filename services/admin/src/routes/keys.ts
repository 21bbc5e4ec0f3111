/**
 * GET /api/keys (metadata) and POST /api/keys/pregenerate {count}: a key-admin's session makes
 * the next data keys (@coffer/keyring), signed by the org key and wrapped to every confirmed
 * viewer and key-admin and to the recovery key. Each recipient's certificate is checked against
 * the pinned trust root first: a user row planted in the database, without a certificate the org
 * key made, gets nothing, and an uncertified recovery key stops the run.
 */
import { callVault } from '@coffer/bus';
import { sendProblem } from '@coffer/http';
import { pregenerateDataKeys, SuiteRefused, UncertifiedRecoveryKey } from '@coffer/keyring';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { originOf } from '../session.ts';
import { sessionHolder } from '../unwrap.ts';
import type { AdminDeps } from './deps.ts';

const Pregenerate = Type.Object({ count: Type.Integer({ minimum: 1, maximum: 16 }) }, { additionalProperties: false });

export const keyRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  app.get('/api/keys', { config: { action: 'keys.list' } }, async (req, reply) =>
    reply
      .header('cache-control', 'no-store')
      .send(await callVault(deps.bus, 'keys.list', { v: 1, session: req.session.hash })),
  );

  const pregenerate = { schema: { body: Pregenerate }, config: { action: 'keys.pregenerate', csrf: true } };
  app.post('/api/keys/pregenerate', pregenerate, async (req, reply) => {
    const { session } = req;
    const m = await callVault(deps.bus, 'keys.material', { v: 1, session: session.hash });
    let made: ReturnType<typeof pregenerateDataKeys>;
    try {
      made = pregenerateDataKeys(sessionHolder(session.token, m.session), m, deps.trustRoot, {
        count: req.body.count,
        days: deps.dataKeyDays,
        now: deps.now(),
      });
    } catch (err) {
      if (err instanceof SuiteRefused) {
        // The stored configuration was edited, dropped or replaced: never mint in a suite it did not sign.
        req.log.error({ alert: 'org-config' }, err.message);
        return sendProblem(reply, {
          status: 409,
          type: 'suite-refused',
          title: "The org's signed suite configuration does not verify; no data keys were made",
          detail: err.message,
        });
      }
      if (!(err instanceof UncertifiedRecoveryKey)) throw err;
      req.log.error({ alert: 'recovery-key' }, 'the recovery key has no valid certificate: no data keys made');
      return sendProblem(reply, {
        status: 409,
        type: 'recovery-key-uncertified',
        title: 'The stored recovery key is not certified by the org key; no data keys were made',
      });
    }
    for (const userId of made.skipped) {
      req.log.warn({ userId }, 'recipient without a valid certificate: no key wrapped to it');
    }
    await callVault(deps.bus, 'keys.store', {
      v: 1,
      session: session.hash,
      dataKeys: made.dataKeys,
      origin: originOf(req),
    });
    return reply.code(201).send({
      items: made.dataKeys.map((k) => ({ ...k.bundle, wrappedCopies: k.copies.length })),
      skippedRecipients: made.skipped.length,
    });
  });
};
