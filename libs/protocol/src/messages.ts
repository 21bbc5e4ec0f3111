/**
 * What travels on the bus, versioned. Records and key bundles are JSON with binary fields in
 * base64; every decoder checks the shape strictly and throws ProtocolError with a reason that is
 * safe to store and log (it never quotes the message).
 */
import { type Static, Type } from '@sinclair/typebox';
import { type TypeCheck, TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { RECORD_TYPES, type RecordType } from './values.ts';
import { IsoInstant as Instant, UuidV7 as Uuid } from './vocabulary.ts';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

const KeyId = Type.String({ minLength: 1, maxLength: 128 });
export const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: 8192 });

const recordFields = {
  id: Uuid,
  type: Type.Union(RECORD_TYPES.map((t) => Type.Literal(t))),
  keyId: KeyId,
  hint: Type.Union([Type.String({ pattern: '^[0-9]{4}$' }), Type.Null()]),
  submittedAt: Instant,
  /** Sealed blob v1 of the normalised value, base64. */
  sealed: Base64,
};

/** Version 1: sealed by ingest, which also took the hint from the value it saw. Read forever. */
export const RecordMessageV1 = Type.Object({ v: Type.Literal(1), ...recordFields }, { additionalProperties: false });

/**
 * Version 2 says who sealed the value and so who vouches for the hint: `ingest` (as in v1), or
 * `client` — sealed in the submitter's browser or backend (POST /v1/sealed-records), where ingest
 * never sees the value and the hint is only what the client claims.
 */
export const RecordMessageV2 = Type.Object(
  { v: Type.Literal(2), ...recordFields, sealedBy: Type.Union([Type.Literal('ingest'), Type.Literal('client')]) },
  { additionalProperties: false },
);

export type RecordMessageV1 = Static<typeof RecordMessageV1>;
export type RecordMessageV2 = Static<typeof RecordMessageV2>;
export const RecordMessage = Type.Union([RecordMessageV1, RecordMessageV2]);
export type RecordMessage = Static<typeof RecordMessage>;

/**
 * Whether a record's hint has the shape its type gives one: the last four digits of a card number,
 * the serial of an SSN (never 0000, which the SSA does not issue), and none for a secret. The vault
 * cannot open the value to compare, but a hint of the wrong kind is refused.
 */
export function hintFits(type: RecordType, hint: string | null): boolean {
  switch (type) {
    case 'pan':
      return hint !== null && /^[0-9]{4}$/.test(hint);
    case 'ssn':
      return hint !== null && /^[0-9]{4}$/.test(hint) && hint !== '0000';
    case 'secret':
      return hint === null;
    default:
      return false;
  }
}

/** Any UUID (context ids are random, version 4). */
const AnyUuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
/**
 * Base64 of a record context's encapsulated key: 32 bytes (X25519) or 1120 (X-Wing). The blob's
 * header names the suite; the vault checks the length against it and against the data key's.
 */
const Enc = Type.String({ pattern: '^(?:[A-Za-z0-9+/]{43}=|[A-Za-z0-9+/]{1494}==)$' });

/** The most records one batch message carries; ingest's group commit stays well below it. */
export const MAX_RECORDS_PER_BATCH = 1024;

/**
 * Record message version 3: a batch of records from concurrent requests, published as one stream
 * message (group commit) with Nats-Msg-Id = `batchId`. Each record is sealed under a record
 * context (sealed blob v2) whose encapsulated key travels once in `contexts`. The vault stores a
 * batch in one transaction; a record id seen before is a no-op, so a record that a client retried
 * with its Idempotency-Key can arrive in two batches and is still stored once. Version 1 (one
 * record a message, sealed by ingest) and 2 (one record, saying who sealed it) stay accepted
 * forever. Every record of a batch was sealed by ingest.
 */
export const RecordBatchMessage = Type.Object(
  {
    v: Type.Literal(3),
    batchId: AnyUuid,
    contexts: Type.Array(Type.Object({ id: AnyUuid, keyId: KeyId, enc: Enc }, { additionalProperties: false }), {
      minItems: 1,
      maxItems: 64,
    }),
    records: Type.Array(
      Type.Object(
        {
          id: Uuid,
          type: Type.Union(RECORD_TYPES.map((t) => Type.Literal(t))),
          keyId: KeyId,
          hint: Type.Union([Type.String({ pattern: '^[0-9]{4}$' }), Type.Null()]),
          submittedAt: Instant,
          contextId: AnyUuid,
          /** Sealed blob v2 of the normalised value, base64. */
          sealed: Base64,
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_RECORDS_PER_BATCH },
    ),
  },
  { additionalProperties: false },
);
export type RecordBatchMessage = Static<typeof RecordBatchMessage>;

/** The suites a bundle can name (canonical v2); a bundle without one is X25519 (v1). */
export const SuiteName = Type.Union([Type.Literal('x25519'), Type.Literal('xwing')]);

export const DataKeyBundleJson = Type.Object(
  { id: KeyId, suite: Type.Optional(SuiteName), publicKey: Type.String(), notBefore: Instant, notAfter: Instant },
  { additionalProperties: false },
);
export type DataKeyBundleJson = Static<typeof DataKeyBundleJson>;

export const KeyBundleReply = Type.Union([
  Type.Object(
    { v: Type.Literal(1), bundle: DataKeyBundleJson, signature: Type.String() },
    { additionalProperties: false },
  ),
  Type.Object({ v: Type.Literal(1), error: Type.String() }, { additionalProperties: false }),
]);
export type KeyBundleReply = Static<typeof KeyBundleReply>;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

type Schema = Parameters<typeof Value.Check>[0];

/**
 * For a union of versions (RecordMessage), the member whose `v` the message names, so that a
 * refusal says which field is wrong rather than "Expected union value"; an unknown `v` is reported
 * at /v by the first member.
 */
function versionOf(schema: Schema, parsed: unknown): Schema {
  const members = (schema as { anyOf?: Schema[] }).anyOf;
  if (!members || typeof parsed !== 'object' || parsed === null) return schema;
  const v = (parsed as { v?: unknown }).v;
  const named = members.find((m) => (m as { properties?: { v?: { const?: unknown } } }).properties?.v?.const === v);
  return named ?? members[0] ?? schema;
}

/** Parse and check a bus message; throws ProtocolError naming what is wrong. */
export function decodeJson<T extends Parameters<typeof Value.Check>[0]>(schema: T, bytes: Uint8Array): Static<T> {
  return checkJson(schema, parseJson(bytes));
}

/** Parse a bus message as UTF-8 JSON, unchecked; throws ProtocolError. */
export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch {
    throw new ProtocolError('not UTF-8 JSON');
  }
}

/**
 * Each schema compiled once (as admin-codec.ts does): Value.Check interprets the schema on every
 * call and builds each pattern's RegExp anew, which was most of the vault's CPU per stored record.
 * Weak, so a schema made on the fly does not stay.
 */
const compiled = new WeakMap<Schema, TypeCheck<Schema>>();
function checker(schema: Schema): TypeCheck<Schema> {
  let check = compiled.get(schema);
  if (!check) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return check;
}

/** Check a parsed message against its schema; throws ProtocolError naming what is wrong. */
export function checkJson<T extends Parameters<typeof Value.Check>[0]>(schema: T, parsed: unknown): Static<T> {
  if (!checker(schema).Check(parsed)) {
    const first = Value.Errors(versionOf(schema, parsed), parsed).First();
    throw new ProtocolError(first ? `invalid at ${first.path || '/'}: ${first.message}` : 'invalid message');
  }
  return parsed as Static<T>;
}
