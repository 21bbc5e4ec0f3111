/**
 * GET /api/keys (metadata), POST /api/keys/pregenerate {count} and POST /api/keys/rotate: a
 * key-admin's session makes data keys (@coffer/keyring), signed by the org key and wrapped to
 * every confirmed viewer and key-admin and to the recovery key. Each recipient's certificate is
 * checked against the pinned trust root first, and the vault's signed revocation list against the
 * trust root and the counter this admin plane remembers (issue 15, item 2): a user row planted or
 * restored in the database gets nothing, a rolled-back list stops the run, and an uncertified
 * recovery key stops it too. A rotation (issue 15, item 1) starts a fresh current window now.
 */
import { callVault } from '@coffer/bus';
import { sendProblem } from '@coffer/http';
import {
  certifyVaultKey,
  checkRevocationList,
  type Pregenerated,
  pregenerateDataKeys,
  SuiteRefused,
  UncertifiedRecoveryKey,
  VaultKeyMismatch,
} from '@coffer/keyring';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { checkedRevocations } from '../revocations.ts';
import { originOf } from '../session.ts';
import { withSessionHolder } from '../session-holder.ts';
import type { AdminDeps } from './deps.ts';
import { sessionRead } from './session-read.ts';

const Pregenerate = Type.Object({ count: Type.Integer({ minimum: 1, maximum: 16 }) }, { additionalProperties: false });
const DAY_MS = 24 * 60 * 60 * 1000;

export interface MakeKeys {
  /** Rotation: from `until` (the end of the horizon to keep), windows starting now; else `count` more. */
  readonly rotateUntil?: string | null;
  readonly count?: number;
}

/**
 * Make and store data keys through the caller's session. Answers the problem itself and returns
 * undefined when it refused; else what was stored.
 */
export async function makeDataKeys(
  deps: AdminDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  what: MakeKeys,
): Promise<Pregenerated | undefined> {
  const { session } = req;
  const m = await callVault(deps.bus, 'keys.material', { v: 1, session: session.hash });
  const checked = await checkedRevocations(deps, req, reply, 'keys.pregenerate', m.revocations);
  if (!checked.ok) return undefined;
  const rotate = what.rotateUntil !== undefined;
  const now = deps.now();
  const horizon = what.rotateUntil ? Date.parse(what.rotateUntil) - now.getTime() : 0;
  const count = rotate ? Math.min(16, Math.max(1, Math.ceil(horizon / (deps.dataKeyDays * DAY_MS)))) : what.count;
  let made: Pregenerated;
  try {
    made = withSessionHolder(session.token, m.session, (holder) =>
      pregenerateDataKeys(holder, m, deps.trustRoot, checked.list, {
        count: count ?? 1,
        days: deps.dataKeyDays,
        now,
        startNow: rotate,
      }),
    );
  } catch (err) {
    if (err instanceof SuiteRefused) {
      // The stored configuration was edited, dropped or replaced: never mint in a suite it did not sign.
      req.log.error({ alert: 'org-config' }, err.message);
      sendProblem(reply, {
        status: 409,
        type: 'suite-refused',
        title: "The org's signed suite configuration does not verify; no data keys were made",
        detail: err.message,
      });
      return undefined;
    }
    if (!(err instanceof UncertifiedRecoveryKey)) throw err;
    req.log.error({ alert: 'recovery-key' }, 'the recovery key has no valid certificate: no data keys made');
    sendProblem(reply, {
      status: 409,
      type: 'recovery-key-uncertified',
      title: 'The stored recovery key is not certified by the org key; no data keys were made',
    });
    return undefined;
  }
  for (const userId of made.skipped) {
    req.log.warn({ userId }, 'recipient without a valid certificate: no key wrapped to it');
  }
  for (const userId of made.revoked) {
    req.log.warn({ alert: 'revoked-row', userId }, 'an active row for a revoked person: no key wrapped to it');
  }
  await callVault(deps.bus, 'keys.store', {
    v: 1,
    session: session.hash,
    dataKeys: made.dataKeys,
    origin: originOf(req),
    ...(rotate ? { rotate: true as const } : {}),
  });
  return made;
}

const madeReply = (made: Pregenerated) => ({
  items: made.dataKeys.map((k) => ({ ...k.bundle, wrappedCopies: k.copies.length })),
  skippedRecipients: made.skipped.length + made.revoked.length,
});

const CertifyVault = Type.Object(
  { fingerprint: Type.String({ minLength: 30, maxLength: 64, pattern: '^[0-9 -]+$' }) },
  { additionalProperties: false },
);

export const keyRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  sessionRead(app, deps, '/api/keys', 'keys.list', 'keys.list');

  const pregenerate = { schema: { body: Pregenerate }, config: { action: 'keys.pregenerate', csrf: true } };
  app.post('/api/keys/pregenerate', pregenerate, async (req, reply) => {
    const made = await makeDataKeys(deps, req, reply, { count: req.body.count });
    return made ? reply.code(201).send(madeReply(made)) : reply;
  });

  // Start a fresh current window now, replacing every window not yet begun (to the same horizon):
  // what a revocation does by itself, for when its rotation did not complete.
  app.post('/api/keys/rotate', { config: { action: 'keys.pregenerate', csrf: true } }, async (req, reply) => {
    const made = await rotateToHorizon(deps, req, reply);
    return made ? reply.code(201).send(madeReply(made)) : reply;
  });

  // After a legitimate backup restore rolled the revocation list back: store the newest signed list
  // this admin plane remembers (checked again first), re-apply it, and rotate if it changed anyone.
  app.post(
    '/api/revocations/restore',
    { config: { action: 'revocations.restore', csrf: true } },
    async (req, reply) => {
      await deps.revocationPin.refresh();
      const signed = deps.revocationPin.signed;
      const checked =
        signed && checkRevocationList(deps.trustRoot, signed, deps.revocationPin.counter, deps.revocationPin.signed);
      if (!signed || !checked) {
        return sendProblem(reply, {
          status: 409,
          type: 'no-remembered-list',
          title: 'This admin plane remembers no signed revocation list to restore',
        });
      }
      const restored = await callVault(deps.bus, 'revocations.restore', {
        v: 1,
        session: req.session.hash,
        revocations: { list: signed.list, signature: signed.signature },
        origin: originOf(req),
      });
      if (restored.applied && !(await rotateToHorizon(deps, req, reply))) return reply;
      return reply.send(restored);
    },
  );

  const certify = { schema: { body: CertifyVault }, config: { action: 'keys.certify-vault', csrf: true } };
  app.post('/api/keys/vault-reply-key', certify, async (req, reply) => {
    const { session } = req;
    const { replyKey } = await callVault(deps.bus, 'status', { v: 1 });
    if (!replyKey) {
      return sendProblem(reply, { status: 409, type: 'vault-key-unavailable', title: 'The vault named no reply key' });
    }
    const m = await callVault(deps.bus, 'keys.material', { v: 1, session: session.hash });
    let certified: ReturnType<typeof certifyVaultKey>;
    try {
      certified = withSessionHolder(session.token, m.session, (holder) =>
        certifyVaultKey(holder, m, replyKey, req.body.fingerprint),
      );
    } catch (err) {
      if (!(err instanceof VaultKeyMismatch)) throw err;
      req.log.error({ alert: 'vault-key' }, 'the vault reply key named over the bus has another fingerprint');
      return sendProblem(reply, {
        status: 409,
        type: 'vault-key-mismatch',
        title: 'The vault reply key is not the one with this fingerprint; nothing was certified',
      });
    }
    await callVault(deps.bus, 'keys.certify-vault', {
      v: 1,
      session: session.hash,
      ...certified,
      origin: originOf(req),
    });
    return reply.code(201).send({ key: certified.key, fingerprint: req.body.fingerprint });
  });
};

/** A fresh current window now, replacing the windows not yet begun up to the same horizon. */
async function rotateToHorizon(deps: AdminDeps, req: FastifyRequest, reply: FastifyReply) {
  const list = await callVault(deps.bus, 'keys.list', { v: 1, session: req.session.hash });
  const last = list.items.reduce<string | null>((a, k) => (a && a > k.notAfter ? a : k.notAfter), null);
  return makeDataKeys(deps, req, reply, { rotateUntil: last });
}
