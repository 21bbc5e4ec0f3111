/**
 * POST /v1/sealed-records — a value sealed by the submitter (the browser SDK or @coffer/client), so
 * ingest never sees it. Ingest checks everything it can without the value — id form and freshness,
 * the key is the current one or just ended, blob header and size for the type, hint shape, rate
 * limit, replays — and publishes it like any record (message v2, sealedBy 'client'), answering 202
 * only after the stream's PubAck. Whether the value matches its type can only be seen when a person
 * reveals it; the admin plane checks it then.
 */
import {
  parseSealedBlob,
  type RecipientKind,
  recipientKindOf,
  SEALED_BLOB_OVERHEAD,
  SEALED_BLOB_OVERHEAD_XWING,
} from '@coffer/crypto';
import { sendProblem } from '@coffer/http';
import {
  DUPLICATE_WINDOW_MS,
  encodeJson,
  hintFits,
  RECORD_TYPES,
  type RecordMessageV2,
  type RecordType,
} from '@coffer/protocol';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { SeenRecordIds } from '../seen-record-ids.ts';
import type { IngestDeps } from './deps.ts';
import { busUnavailable, IdempotencyHeaders, idempotencyKeyOf } from './submit-common.ts';

/** How far a record id's UUIDv7 time may lie behind or ahead of this clock. */
export const ID_MAX_AGE_MS = DUPLICATE_WINDOW_MS - 30_000;
export const ID_MAX_AHEAD_MS = 30_000;
/** A key whose window ended this recently still takes records sealed just before it ended. */
export const KEY_GRACE_MS = 5 * 60_000;

/** UTF-8 bytes of each type's normalised value (libs/protocol values.ts); sealing adds 55. */
export const PLAINTEXT_BYTES: Record<RecordType, readonly [number, number]> = {
  pan: [12, 19],
  ssn: [11, 11],
  secret: [1, 4096],
};
const MAX_SEALED_BASE64 = Math.ceil((4096 + SEALED_BLOB_OVERHEAD_XWING) / 3) * 4;
const OVERHEAD: Record<RecipientKind, number> = { x25519: SEALED_BLOB_OVERHEAD, xwing: SEALED_BLOB_OVERHEAD_XWING };

const Body = Type.Object(
  {
    id: Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' }),
    type: Type.Union(RECORD_TYPES.map((t) => Type.Literal(t))),
    keyId: Type.String({ minLength: 1, maxLength: 128 }),
    sealed: Type.String({ minLength: 1, maxLength: MAX_SEALED_BASE64, pattern: '^[A-Za-z0-9+/]+={0,2}$' }),
    hint: Type.Union([Type.String({ pattern: '^[0-9]{4}$' }), Type.Null()]),
  },
  { additionalProperties: false },
);
type Body = { id: string; type: RecordType; keyId: string; sealed: string; hint: string | null };

/** Milliseconds since the epoch in a UUIDv7's first 48 bits. */
function uuidV7Time(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

type Problem = { type: string; title: string };

/**
 * Why a sealed submission cannot be accepted, checked without reading the value; or the suite its
 * blob names (checked against the key's once the key is known).
 */
function refusal(body: Body, now: number): Problem | RecipientKind {
  const at = uuidV7Time(body.id);
  if (at < now - ID_MAX_AGE_MS || at > now + ID_MAX_AHEAD_MS) {
    return { type: 'stale-record-id', title: 'The record id is not fresh: seal again, just before submitting' };
  }
  // The vault's own rule (it dead-letters anything else), so a 202 here is never a dead letter there.
  if (!hintFits(body.type, body.hint)) {
    return {
      type: 'invalid-hint',
      title: 'A pan or ssn carries a four-digit hint (an ssn never 0000); a secret carries none',
    };
  }
  const blob = Buffer.from(body.sealed, 'base64');
  if (blob.toString('base64') !== body.sealed)
    return { type: 'invalid-sealed', title: 'sealed is not canonical base64' };
  let suite: RecipientKind;
  try {
    suite = recipientKindOf(parseSealedBlob(blob).suite);
  } catch (err) {
    return { type: 'invalid-sealed', title: `sealed is not a v1 sealed blob (${(err as { code?: string }).code})` };
  }
  const [min, max] = PLAINTEXT_BYTES[body.type];
  const size = blob.length - OVERHEAD[suite];
  if (size < min || size > max) {
    return { type: 'sealed-size', title: `The sealed value's size does not fit a ${body.type}` };
  }
  return suite;
}

/**
 * The verified key a submission names, if current or just ended. Without a current key at all
 * (say just past a window's end), one refresh first; an unknown id alone never triggers one.
 */
async function sealedToKey(deps: IngestDeps, keyId: string) {
  if (!deps.keys.current()) await deps.keys.currentOrRefresh();
  return deps.keys.recent(keyId, KEY_GRACE_MS);
}

export const submitSealedRecordRoute: FastifyPluginAsync<IngestDeps> = async (app, deps) => {
  const seen = new SeenRecordIds(ID_MAX_AGE_MS + ID_MAX_AHEAD_MS);

  app.post(
    '/v1/sealed-records',
    {
      schema: { body: Body, headers: IdempotencyHeaders },
      config: { rateLimit: deps.rateLimit },
    },
    async (req, reply) => {
      const body = req.body as Body;
      const now = deps.now();
      const suite = refusal(body, now.getTime());
      if (typeof suite !== 'string') return sendProblem(reply, { status: 400, ...suite });
      const key = await sealedToKey(deps, body.keyId);
      if (!key) {
        return sendProblem(reply, {
          status: 422,
          type: 'unknown-key',
          title: 'The value is sealed to a data key that is not current',
          detail: 'Fetch GET /v1/keys/current and seal again.',
        });
      }
      // Never stored in another suite than its key's: such a blob could not be opened anyway.
      if (suite !== key.key.kind) {
        return sendProblem(reply, {
          status: 422,
          type: 'suite-mismatch',
          title: `The value is sealed with ${suite}, but its data key is ${key.key.kind}`,
          detail: 'Fetch GET /v1/keys/current and seal with the suite its bundle names.',
        });
      }
      const idempotencyKey = idempotencyKeyOf(req);
      const canonical = JSON.stringify([body.id, body.type, body.keyId, body.sealed, body.hint]);
      const message = seen.claim(body.id, canonical, idempotencyKey, now.getTime(), () => {
        const m: RecordMessageV2 = {
          v: 2,
          id: body.id,
          type: body.type,
          keyId: key.id,
          hint: body.hint,
          submittedAt: now.toISOString(),
          sealed: body.sealed,
          sealedBy: 'client',
        };
        return encodeJson(m);
      });
      if (message === 'replay') {
        return sendProblem(reply, {
          status: 409,
          type: 'record-id-replayed',
          title: 'This record id was already submitted',
          detail: 'A retry must repeat the same body with the same Idempotency-Key.',
        });
      }
      try {
        await deps.bus.publishRecord(body.id, message);
      } catch (err) {
        return busUnavailable(reply, err, 'retry with the same body and Idempotency-Key.');
      }
      return reply.code(202).send({ id: body.id, type: body.type, hint: body.hint, keyId: key.id });
    },
  );
};
