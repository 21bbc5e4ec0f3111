/**
 * What travels on the bus, versioned. Records and key bundles are JSON with binary fields in
 * base64; every decoder checks the shape strictly and throws ProtocolError with a reason that is
 * safe to store and log (it never quotes the message).
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { RECORD_TYPES, type RecordType } from './values.ts';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' });
const KeyId = Type.String({ minLength: 1, maxLength: 128 });
const Instant = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$' });
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

export const DataKeyBundleJson = Type.Object(
  { id: KeyId, publicKey: Type.String(), notBefore: Instant, notAfter: Instant },
  { additionalProperties: false },
);

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
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new ProtocolError('not UTF-8 JSON');
  }
  if (!Value.Check(schema, parsed)) {
    const first = Value.Errors(versionOf(schema, parsed), parsed).First();
    throw new ProtocolError(first ? `invalid at ${first.path || '/'}: ${first.message}` : 'invalid message');
  }
  return parsed as Static<T>;
}
