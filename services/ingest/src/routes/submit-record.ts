/**
 * POST /v1/records — validate, seal to the current data key, publish, and answer 202 only after
 * the stream's PubAck. The sealed value is bound to (record id, type, data key id).
 */
import { BusUnavailableError } from '@coffer/bus';
import { recordBinding, seal } from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import { checkValue, encodeJson, newRecordId, RECORD_TYPES, type RecordMessage } from '@coffer/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { VerifiedKey } from '../data-key.ts';
import type { IngestDeps, PreparedRecord } from './deps.ts';

const Body = Type.Object(
  {
    // One enum rather than a union of literals, so a refusal can list the allowed types.
    type: Type.Unsafe<RecordMessage['type']>({ type: 'string', enum: [...RECORD_TYPES] }),
    // Checked by type-specific rules below; a non-string (a PAN as a JSON number) is refused there.
    value: Type.Unknown(),
  },
  { additionalProperties: false },
);
const Headers = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' })),
});
const Accepted = Type.Object({
  id: Type.String(),
  type: Type.String(),
  hint: Type.Union([Type.String(), Type.Null()]),
  keyId: Type.String(),
});

export const submitRecordRoute: FastifyPluginAsync<IngestDeps> = async (app, deps) => {
  const prepare = (key: VerifiedKey, type: RecordMessage['type'], normalized: string, hint: string | null) => {
    const id = newRecordId();
    const plaintext = Buffer.from(normalized, 'utf8');
    const sealed = seal(key.key, plaintext, recordBinding(id, type, key.id));
    plaintext.fill(0);
    const message: RecordMessage = {
      v: 1,
      id,
      type,
      keyId: key.id,
      hint,
      submittedAt: deps.now().toISOString(),
      sealed: sealed.toString('base64'),
    };
    return { id, message: encodeJson(message), answer: { id, type, hint, keyId: key.id } };
  };

  app.post(
    '/v1/records',
    {
      schema: { body: Body, headers: Headers, response: { 202: Accepted } },
      config: { rateLimit: deps.rateLimit },
    },
    async (req, reply) => {
      const body = req.body as { type: RecordMessage['type']; value: unknown };
      const check = checkValue(body.type, body.value);
      if (!check.ok) {
        return sendProblem(reply, {
          status: 400,
          type: 'invalid-value',
          title: `The ${body.type} value is not valid`,
          detail: check.detail,
          rule: check.rule,
        });
      }
      const key = await deps.keys.currentOrRefresh();
      if (!key) {
        return sendProblem(reply, {
          status: 503,
          type: 'no-verified-key',
          title: 'No verified data key is available',
          detail: 'Nothing was stored; try again later.',
        });
      }
      const idempotencyKey = (req.headers as { 'idempotency-key'?: string })['idempotency-key'];
      const make = () => prepare(key, body.type, check.normalized, check.hint);
      let prepared: PreparedRecord | 'conflict';
      if (idempotencyKey) {
        const fingerprinted = Buffer.from(`${body.type}\n${check.normalized}`, 'utf8');
        // Scoped to the client address: another client reusing a key learns nothing about this body.
        prepared = deps.idempotency.prepare(`${req.ip} ${idempotencyKey}`, fingerprinted, deps.now().getTime(), make);
        fingerprinted.fill(0);
      } else {
        prepared = make();
      }
      if (prepared === 'conflict') {
        return sendProblem(reply, {
          status: 422,
          type: 'idempotency-key-reused',
          title: 'This Idempotency-Key was used with a different body',
        });
      }
      try {
        // Across replicas: the first claim for this key wins everywhere (shared-idempotency.ts).
        if (idempotencyKey && deps.sharedIdempotency) {
          prepared = await deps.sharedIdempotency.claim(
            `${req.ip} ${idempotencyKey}`,
            `${body.type}\n${check.normalized}`,
            prepared,
          );
          if (prepared === 'conflict') {
            return sendProblem(reply, {
              status: 422,
              type: 'idempotency-key-reused',
              title: 'This Idempotency-Key was used with a different body',
            });
          }
        }
        await deps.bus.publishRecord(prepared.id, prepared.message);
      } catch (err) {
        if (!(err instanceof BusUnavailableError)) throw err;
        return sendProblem(reply, {
          status: 503,
          type: 'bus-unavailable',
          title: 'The record could not be handed to the bus',
          detail: 'It may or may not have been stored: retry with the same Idempotency-Key to be sure of one record.',
        });
      }
      return reply.code(202).send(prepared.answer);
    },
  );
};
