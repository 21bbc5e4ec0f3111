/** Contract rows: `coffer reseal` (issue 15, item 3), moving records off old data keys. */
import { Type } from '@sinclair/typebox';
import { DataKeyBundleJson, SuiteName } from '../messages.ts';
import { B64, Hex64, Id, Origin, SignatureB64url, Uuid, Versioned } from '../vocabulary.ts';
import { entry, keyAdmin, SealedRecord, SessionKeyMaterial } from './rows.ts';

/** A run, new or resumed, and how many records it has left. */
export const ResealBegun = Type.Object({ runId: Id, remaining: Type.Integer() });
/** The next records of a run, the caller's copies of their keys, and the key to seal them to. */
export const ResealMaterial = Type.Object({
  toKey: Type.Object({ bundle: DataKeyBundleJson, signature: Type.String() }),
  records: Type.Array(SealedRecord),
  wrappedDataKeys: Type.Record(Type.String(), B64),
  session: SessionKeyMaterial,
  /** The caller's copy of the org key, to sign the batch it stores (optional: older vaults). */
  orgKeyId: Type.Optional(Id),
  orgKey: Type.Optional(B64),
});
export const ResealStored = Type.Object({
  moved: Type.Integer(),
  remaining: Type.Integer(),
  done: Type.Boolean(),
  destroyedKeys: Type.Integer(),
});

const resealing = keyAdmin('keys.reseal');

export const ResealContract = {
  /**
   * Begin, or resume, moving every record of these data keys to the current key; audited once at
   * the start and once, with counts, at the end.
   */
  'reseal.begin': entry({
    request: Versioned({
      session: Hex64,
      keyIds: Type.Array(Id, { maxItems: 16 }),
      /** Also every key of this suite (`coffer reseal --suite x25519`), resolved by the vault. */
      suite: Type.Optional(SuiteName),
      origin: Origin,
    }),
    reply: ResealBegun,
    policy: resealing,
  }),
  /** The next `limit` records of a run, sealed as stored, with the caller's copies of their keys. */
  'reseal.material': entry({
    request: Versioned({ session: Hex64, runId: Id, limit: Type.Integer({ minimum: 1, maximum: 500 }) }),
    reply: ResealMaterial,
    policy: resealing,
  }),
  /**
   * Re-sealed records, all under one new record context of the current key. When none is left the
   * run's old keys are destroyed with their copies and contexts, and the run is audited with counts.
   */
  'reseal.store': entry({
    request: Versioned({
      session: Hex64,
      runId: Id,
      toKeyId: Id,
      context: Type.Object({ id: Uuid, enc: B64 }, { additionalProperties: false }),
      records: Type.Array(Type.Object({ id: Id, sealed: B64 }, { additionalProperties: false }), { maxItems: 500 }),
      origin: Origin,
      /**
       * The org key's signature over the request's digest (coffer/reseal-store/v1): the vault
       * stores no batch without it, so a bus that saw the session hash cannot overwrite records
       * and have old keys destroyed. Optional in the schema only so that v1 messages still decode.
       */
      proof: Type.Optional(SignatureB64url),
    }),
    reply: ResealStored,
    policy: resealing,
  }),
} as const;
