/**
 * POST /v1/records — validate, seal to the current data key (under ingest's current record
 * context), publish with the concurrent requests' records (group commit), and answer 202 only
 * after the stream's PubAck of that batch. The sealed value is bound to (record id, type, data
 * key id).
 */
import { sendProblem } from '@coffer/http';
import { checkValue, newRecordId, RECORD_TYPES, type RecordType } from '@coffer/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { VerifiedKey } from '../data-key.ts';
import type { IngestDeps, PreparedRecord } from './deps.ts';
import { busUnavailable, IdempotencyHeaders, idempotencyKeyOf } from './submit-common.ts';

const Body = Type.Object(
  {
    // One enum rather than a union of literals, so a refusal can list the allowed types.
    type: Type.Unsafe<RecordType>({ type: 'string', enum: [...RECORD_TYPES] }),
    // Checked by type-specific rules below; a non-string (a PAN as a JSON number) is refused there.
    value: Type.Unknown(),
  },
  { additionalProperties: false },
);
const Accepted = Type.Object({
  id: Type.String(),
  type: Type.String(),
  hint: Type.Union([Type.String(), Type.Null()]),
  keyId: Type.String(),
});

/** Seal the normalised value (then zero it) under the current record context, for the group commit. */
function prepareRecord(
  deps: IngestDeps,
  key: VerifiedKey,
  type: RecordType,
  normalized: string,
  hint: string | null,
): PreparedRecord {
  const id = newRecordId();
  const plaintext = Buffer.from(normalized, 'utf8');
  const { context, sealed } = deps.sealer.seal(key, id, type, plaintext);
  plaintext.fill(0);
  const record = {
    id,
    type,
    keyId: key.id,
    hint,
    submittedAt: deps.now().toISOString(),
    contextId: context.id,
    sealed: sealed.toString('base64'),
  };
  const byteLength = record.sealed.length + context.enc.length + 256;
  return { id, queued: { record, context }, answer: { id, type, hint, keyId: key.id }, byteLength };
}

/**
 * The record to publish: without an Idempotency-Key a new one; with one (scoped to the client
 * address, so another client reusing a key learns nothing about this body) the record first
 * prepared for that key and body, or 'conflict' when the key came with another body.
 */
async function preparedOnce(
  deps: IngestDeps,
  scopedKey: string | undefined,
  body: string,
  make: () => PreparedRecord,
): Promise<PreparedRecord | 'conflict'> {
  if (!scopedKey) return make();
  const fingerprinted = Buffer.from(body, 'utf8');
  const local = deps.idempotency.prepare(scopedKey, fingerprinted, deps.now().getTime(), make);
  fingerprinted.fill(0);
  // Across replicas: the first claim for this key wins everywhere (shared-idempotency.ts).
  if (local === 'conflict' || !deps.sharedIdempotency) return local;
  return deps.sharedIdempotency.claim(scopedKey, body, local);
}

export const submitRecordRoute: FastifyPluginAsync<IngestDeps> = async (app, deps) => {
  app.post(
    '/v1/records',
    {
      schema: { body: Body, headers: IdempotencyHeaders, response: { 202: Accepted } },
      config: { rateLimit: deps.rateLimit },
    },
    async (req, reply) => {
      const body = req.body as { type: RecordType; value: unknown };
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
      const idempotencyKey = idempotencyKeyOf(req);
      let prepared: PreparedRecord | 'conflict';
      try {
        prepared = await preparedOnce(
          deps,
          idempotencyKey && `${req.ip} ${idempotencyKey}`,
          `${body.type}\n${check.normalized}`,
          () => prepareRecord(deps, key, body.type, check.normalized, check.hint),
        );
        if (prepared !== 'conflict') await deps.commit.submit(prepared.queued);
      } catch (err) {
        return busUnavailable(reply, err, 'retry with the same Idempotency-Key to be sure of one record.');
      }
      if (prepared === 'conflict') {
        return sendProblem(reply, {
          status: 422,
          type: 'idempotency-key-reused',
          title: 'This Idempotency-Key was used with a different body',
        });
      }
      return reply.code(202).send(prepared.answer);
    },
  );
};
