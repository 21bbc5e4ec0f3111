/** Contract rows: data keys, the org's suite and revocation list, the vault's certificate, decoys. */
import { type Static, Type } from '@sinclair/typebox';
import { OrgConfigJson } from '../admin-messages.ts';
import { DataKeyBundleJson } from '../messages.ts';
import {
  B64,
  Hex64,
  Id,
  Instant,
  Origin,
  PublicKeyB64url,
  RecordTypeSchema,
  RoleSchema,
  SignatureB64url,
  Versioned,
} from '../vocabulary.ts';
import {
  Done,
  entry,
  keyAdmin,
  Nullable,
  SessionKeyMaterial,
  SessionOnly,
  SignedRevocations,
  SuiteFloor,
} from './rows.ts';

export const KeyList = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Id,
      publicKey: Type.String(),
      notBefore: Instant,
      notAfter: Instant,
      current: Type.Boolean(),
      records: Type.Integer(),
      wrappedCopies: Type.Integer(),
    }),
  ),
});

/** What making the next data keys needs (keys.material); `config`/`newestKey` as in SuiteFloor. */
export const KeysMaterial = Type.Object({
  orgKeyId: Id,
  orgKey: B64,
  recovery: Type.Object({ id: Id, publicKey: Type.String(), certificate: Nullable(Type.String()) }),
  /** Active viewers and key-admins, with the certificate each must show. */
  recipients: Type.Array(
    Type.Object({ id: Id, role: RoleSchema, publicKey: Type.String(), certificateSignature: Nullable(Type.String()) }),
  ),
  /** End of the last data key's window, or null before any. */
  lastNotAfter: Nullable(Instant),
  ...SuiteFloor,
  session: SessionKeyMaterial,
  revocations: Type.Optional(Nullable(SignedRevocations)),
});
export type KeysMaterial = Static<typeof KeysMaterial>;

export const KeysStored = Type.Object({ stored: Type.Integer() });

/** A remembered list stored again after a backup restore, and how many people and keys it re-applied. */
export const RevocationsRestored = Type.Object({ counter: Type.Integer(), applied: Type.Integer() });

/** The org's configuration as now stored. */
export const OrgConfigStored = Type.Object({ suite: Type.String(), version: Type.Integer(), changed: Type.Boolean() });

/** Decoys stored (issue 16, item 3). */
export const DecoysPlanted = Type.Object({ planted: Type.Integer({ minimum: 0 }) });

/** One signed data key and its copies, wrapped to each person and to the recovery key. */
const SignedDataKey = Type.Object(
  {
    bundle: DataKeyBundleJson,
    signature: SignatureB64url,
    copies: Type.Array(
      Type.Object(
        {
          recipientKind: Type.Union([Type.Literal('user'), Type.Literal('recovery')]),
          recipientId: Id,
          wrapped: B64,
        },
        { additionalProperties: false },
      ),
      { maxItems: 512 },
    ),
  },
  { additionalProperties: false },
);

export const KeysContract = {
  'keys.list': entry({ request: SessionOnly, reply: KeyList, policy: keyAdmin('keys.list') }),
  /**
   * After a legitimate backup restore (issue 15, item 2): store again the newest signed revocation
   * list the admin plane remembers — newer than the stored one and keeping all its entries — and
   * apply it to the restored rows (revoked people revoked again, retired keys cleared).
   */
  'revocations.restore': entry({
    request: Versioned({ session: Hex64, revocations: SignedRevocations, origin: Origin }),
    reply: RevocationsRestored,
    policy: keyAdmin('revocations.restore'),
  }),
  /** What a key-admin's session needs to make the next data keys. */
  'keys.material': entry({ request: SessionOnly, reply: KeysMaterial, policy: keyAdmin('keys.pregenerate') }),
  /**
   * Key-admins: the org key's certificate for the vault's reply key (from `status`), for an
   * installation initialised before replies were signed (crypto.md, operations.md).
   */
  'keys.certify-vault': entry({
    request: Versioned({ session: Hex64, key: PublicKeyB64url, certificate: SignatureB64url, origin: Origin }),
    reply: Done,
    policy: keyAdmin('vault.certify'),
  }),
  'keys.store': entry({
    request: Versioned({
      session: Hex64,
      dataKeys: Type.Array(SignedDataKey, { minItems: 1, maxItems: 64 }),
      origin: Origin,
      /**
       * A rotation (issue 15, item 1): the first key's window begins now and supersedes the current
       * key; data keys of windows not yet begun are destroyed first.
       */
      rotate: Type.Optional(Type.Literal(true)),
    }),
    reply: KeysStored,
    policy: keyAdmin('keys.pregenerate'),
  }),

  /**
   * A key-admin changes the suite the org's new keys are made in (issue 15, item 3): the next
   * configuration, signed by the org key through their session. The vault stores it only if it
   * verifies under the trust root, is newer than the stored one and is no downgrade from X-Wing.
   */
  'org.config.store': entry({
    request: Versioned({ session: Hex64, config: OrgConfigJson, signature: SignatureB64url, origin: Origin }),
    reply: OrgConfigStored,
    policy: keyAdmin('org.config'),
  }),

  // issue 16 item 3: decoy records, planted by a key-admin; nothing in any reply marks them later.
  'decoys.plant': entry({
    request: Versioned({
      session: Hex64,
      type: RecordTypeSchema,
      count: Type.Integer({ minimum: 1, maximum: 100 }),
      /** How far back the decoys are dated, at most (within the current data key's window). */
      spreadDays: Type.Integer({ minimum: 0, maximum: 365 }),
      origin: Origin,
    }),
    reply: DecoysPlanted,
    policy: keyAdmin('decoy.plant'),
  }),
} as const;
