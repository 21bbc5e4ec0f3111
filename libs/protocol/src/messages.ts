/**
 * What travels on the bus, versioned. Records and key bundles are JSON with binary fields in
 * base64; every decoder checks the shape strictly and throws ProtocolError with a reason that is
 * safe to store and log (it never quotes the message).
 */
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { RECORD_TYPES } from './values.ts';
import { IsoInstant as Instant, UuidV7 as Uuid } from './vocabulary.ts';

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

const KeyId = Type.String({ minLength: 1, maxLength: 128 });
export const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: 8192 });

export const RecordMessage = Type.Object(
  {
    v: Type.Literal(1),
    id: Uuid,
    type: Type.Union(RECORD_TYPES.map((t) => Type.Literal(t))),
    keyId: KeyId,
    hint: Type.Union([Type.String({ pattern: '^[0-9]{4}$' }), Type.Null()]),
    submittedAt: Instant,
    /** Sealed blob v1 of the normalised value, base64. */
    sealed: Base64,
  },
  { additionalProperties: false },
);
export type RecordMessage = Static<typeof RecordMessage>;

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

/** Parse and check a bus message; throws ProtocolError naming what is wrong. */
export function decodeJson<T extends Parameters<typeof Value.Check>[0]>(schema: T, bytes: Uint8Array): Static<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new ProtocolError('not UTF-8 JSON');
  }
  if (!Value.Check(schema, parsed)) {
    const first = Value.Errors(schema, parsed).First();
    throw new ProtocolError(first ? `invalid at ${first.path || '/'}: ${first.message}` : 'invalid message');
  }
  return parsed as Static<T>;
}
