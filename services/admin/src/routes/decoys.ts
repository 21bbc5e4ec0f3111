/**
 * POST /api/decoys — a key-admin plants decoy records (issue 16, item 3). Values are made here
 * (or given, e.g. secrets in the organisation's own token format), sealed in this session to the
 * current data key under a record context exactly as ingest seals, dated at a random earlier time
 * inside the key's window, and stored by the vault, which tags them under its decoy key. The reply
 * says how many were planted, never which: nothing the portal shows later marks a decoy.
 */
import { randomInt } from 'node:crypto';
import { callVault } from '@coffer/bus';
import { PublicKey, RecordSealingContext } from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { checkValue, RecordTypeSchema, recordIdAt } from '@coffer/protocol';
import { type FastifyPluginAsyncTypebox, Type } from '@fastify/type-provider-typebox';
import { decoyValue, hintOf } from '../decoy-values.ts';
import { originOf } from '../session.ts';
import type { AdminDeps } from './deps.ts';

const Body = Type.Object(
  {
    type: RecordTypeSchema,
    count: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    /** Values to plant instead of generated ones (count is then their number). */
    values: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { minItems: 1, maxItems: 100 })),
    /** How far back decoys are dated, at most (within the current data key's window). */
    spreadDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
  },
  { additionalProperties: false },
);

const DAY_MS = 24 * 60 * 60 * 1000;

export const decoyRoutes: FastifyPluginAsyncTypebox<AdminDeps> = async (app, deps) => {
  const options = { schema: { body: Body }, config: { action: 'decoy.plant', csrf: true } };
  app.post('/api/decoys', options, async (req, reply) => {
    const { type, values: given, spreadDays = 30 } = req.body;
    if (given?.some((v) => !checkValue(type, v).ok)) {
      return sendProblem(reply, { status: 400, type: 'bad-value', title: `A value is not a valid ${type}` });
    }
    const keys = await callVault(deps.bus, 'keys.list', { v: 1, session: req.session.hash });
    const key = keys.items.find((k) => k.current);
    if (!key) return sendProblem(reply, { status: 409, type: 'no-data-key', title: 'No data key covers now' });
    const now = deps.now().getTime();
    const earliest = Math.max(Date.parse(key.notBefore), now - spreadDays * DAY_MS);
    const publicKey = PublicKey.fromBase64url('x25519', key.publicKey);
    const values = given ?? Array.from({ length: req.body.count ?? 1 }, () => decoyValue(type));
    const records = values.map((value) => {
      // Not "now": records planted together must not stand out as a run at the top of the list.
      const at = earliest + randomInt(Math.max(1, now - earliest));
      const id = recordIdAt(at);
      const context = RecordSealingContext.create(publicKey, key.id);
      try {
        const plaintext = Buffer.from(value);
        const sealed = context.seal(id, type, plaintext);
        plaintext.fill(0);
        return {
          id,
          type,
          keyId: key.id,
          contextId: context.contextId,
          contextEnc: context.enc.toString('base64'),
          sealed: Buffer.from(sealed).toString('base64'),
          hint: hintOf(type, value),
          submittedAt: new Date(at).toISOString(),
        };
      } finally {
        context.destroy();
      }
    });
    const planted = await callVault(deps.bus, 'decoys.plant', {
      v: 1,
      session: req.session.hash,
      records,
      origin: originOf(req),
    });
    return reply.code(201).header('cache-control', 'no-store').send(planted);
  });
};
