/**
 * `coffer reseal` (issue 15, item 3): POST /api/reseal {keyIds?, suite?} begins (or resumes) a run
 * that moves every record of those data keys (and of every key of `suite`) to the current key; POST /api/reseal/<run>/step {limit}
 * moves the next batch. The key-admin's session opens each record with the old key and seals it
 * again, all of a batch under one new record context of the current key — whose bundle is checked
 * against the pinned trust root first, so a key planted in the database receives nothing. Values
 * exist in the clear only inside one step and are wiped after sealing. The vault destroys each old
 * key once no record uses it and audits the run with counts. The CLI drives the steps at a rate.
 */
import { callVault } from '@coffer/bus';
import {
  adminRequestDigest,
  bundleCovers,
  type PrivateKey,
  type RecipientKind,
  RecordSealingContext,
  verifyDataKeyBundle,
} from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { authoriseResealStore } from '@coffer/keyring';
import { type AdminResult, Id, newRecordId, SuiteName, Uuid } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger } from 'fastify';
import { originOf } from '../session.ts';
import { withSessionHolder } from '../session-holder.ts';
import { RecordOpener, recordSuite, unwrapDataKey, unwrapUserKey } from '../unwrap.ts';
import type { AdminDeps } from './deps.ts';

const Begin = Type.Object(
  {
    keyIds: Type.Optional(Type.Array(Id, { maxItems: 16 })),
    /** Every record under a key of this suite (`coffer reseal --suite x25519`). */
    suite: Type.Optional(SuiteName),
  },
  { additionalProperties: false, minProperties: 1 },
);
const Step = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })) },
  { additionalProperties: false },
);
const Params = Type.Object({ runId: Uuid });

export const resealRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  const begin = { schema: { body: Begin }, config: { action: 'keys.reseal', csrf: true } };
  app.post('/api/reseal', begin, async (req, reply) => {
    const run = await callVault(deps.bus, 'reseal.begin', {
      v: 1,
      session: req.session.hash,
      keyIds: req.body.keyIds ?? [],
      ...(req.body.suite ? { suite: req.body.suite } : {}),
      origin: originOf(req),
    });
    return reply.code(201).send(run);
  });

  const step = { schema: { body: Step, params: Params }, config: { action: 'keys.reseal', csrf: true } };
  app.post('/api/reseal/:runId/step', step, async (req, reply) => {
    const { session } = req;
    const m = await callVault(deps.bus, 'reseal.material', {
      v: 1,
      session: session.hash,
      runId: req.params.runId,
      limit: req.body.limit ?? 200,
    });
    const toKey = verifiedCurrentKey(deps, req.log, m.toKey);
    if (!toKey) {
      return sendProblem(reply, {
        status: 409,
        type: 'data-key-unverified',
        title: 'The current data key is not signed by the org key; nothing was re-sealed',
      });
    }
    const context = RecordSealingContext.create(toKey.key, toKey.id);
    const records = resealBatch(unwrapUserKey(session.token, m.session), m, context);
    const request = {
      v: 1 as const,
      session: session.hash,
      runId: req.params.runId,
      toKeyId: toKey.id,
      context: { id: records.length ? context.contextId : newRecordId(), enc: context.enc.toString('base64') },
      records,
      origin: originOf(req),
    };
    context.destroy();
    const { orgKeyId, orgKey } = m;
    if (!orgKeyId || !orgKey) throw new Error('the vault sent no org key copy to sign the re-seal batch');
    // Signed with the org key: the vault destroys nothing for a batch a bus made up.
    const proof = withSessionHolder(session.token, m.session, (holder) =>
      authoriseResealStore(holder, { orgKeyId, orgKey }, adminRequestDigest('reseal.store', request)),
    );
    const stored = await callVault(deps.bus, 'reseal.store', { ...request, proof });
    return reply.send(stored);
  });
};

/** The org's current data key, verified against the pinned trust root and covering now; else logged, undefined. */
function verifiedCurrentKey(
  deps: AdminDeps,
  log: FastifyBaseLogger,
  toKey: AdminResult<'reseal.material'>['toKey'],
): ReturnType<typeof verifyDataKeyBundle> | undefined {
  try {
    // Into the org's current key, of whichever suite it is (X-Wing moves records off X25519).
    const key = verifyDataKeyBundle(deps.trustRoot, toKey.bundle, toKey.signature, ['x25519', 'xwing']);
    if (!bundleCovers(key, deps.now())) throw new Error('its window does not cover now');
    return key;
  } catch (err) {
    log.error({ alert: 'data-key' }, `re-seal refused: the current key does not verify: ${(err as Error).message}`);
    return undefined;
  }
}

/**
 * Opens each record of the batch with its old key and seals it again under `context`; each value is
 * wiped once sealed, and the user key (given for this batch) and the data keys destroyed at the end.
 */
function resealBatch(
  userKey: PrivateKey<RecipientKind>,
  m: AdminResult<'reseal.material'>,
  context: RecordSealingContext,
): { id: string; sealed: string }[] {
  const dataKeys = new Map<string, PrivateKey<RecipientKind>>();
  const opener = new RecordOpener();
  const records: { id: string; sealed: string }[] = [];
  try {
    for (const r of m.records) {
      let dataKey = dataKeys.get(r.dataKeyId);
      if (!dataKey) {
        const wrapped = m.wrappedDataKeys[r.dataKeyId];
        if (!wrapped) throw new Error(`no key for data key ${r.dataKeyId}`);
        dataKey = unwrapDataKey(userKey, m.session.userId, r.dataKeyId, wrapped, recordSuite(r));
        dataKeys.set(r.dataKeyId, dataKey);
      }
      const plaintext = opener.open(dataKey, r);
      try {
        records.push({ id: r.id, sealed: context.seal(r.id, r.type, plaintext).toString('base64') });
      } finally {
        plaintext.fill(0);
      }
    }
  } finally {
    opener.destroy();
    for (const key of dataKeys.values()) key.destroy();
    userKey.destroy(); // unwrapped for this batch alone
  }
  return records;
}
