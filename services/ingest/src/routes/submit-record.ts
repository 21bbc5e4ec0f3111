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
import type { IngestDeps } from './deps.ts';

const Body = Type.Object(
  {
    type: Type.Union(RECORD_TYPES.map((t) => Type.Literal(t))),
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

interface Answer {
  readonly status: 202 | 503;
  readonly body: unknown;
}

export const submitRecordRoute: FastifyPluginAsync<IngestDeps> = async (app, deps) => {
  const submit = async (type: RecordMessage['type'], normalized: string, hint: string | null): Promise<Answer> => {
    const key = deps.keys.current();
    if (!key) return { status: 503, body: 'no-key' };
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
    try {
      await deps.bus.publishRecord(id, encodeJson(message));
    } catch (err) {
      if (err instanceof BusUnavailableError) return { status: 503, body: 'bus' };
      throw err;
    }
    return { status: 202, body: { id, type, hint, keyId: key.id } };
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
      const idempotencyKey = (req.headers as { 'idempotency-key'?: string })['idempotency-key'];
      const work = () => submit(body.type, check.normalized, check.hint);
      const pending = idempotencyKey
        ? deps.idempotency.run(idempotencyKey, `${body.type}\n${check.normalized}`, deps.now().getTime(), work)
        : work();
      if (pending === 'conflict') {
        return sendProblem(reply, {
          status: 422,
          type: 'idempotency-key-reused',
          title: 'This Idempotency-Key was used with a different body',
        });
      }
      const answer = await pending;
      if (answer.status === 503) {
        return sendProblem(reply, {
          status: 503,
          type: answer.body === 'bus' ? 'bus-unavailable' : 'no-verified-key',
          title:
            answer.body === 'bus' ? 'The record could not be handed to the bus' : 'No verified data key is available',
          detail: 'Nothing was stored; try again later.',
        });
      }
      return reply.code(202).send(answer.body);
    },
  );
};
