/**
 * The envelope every `vault.admin.*` reply travels in, and the bootstrap request (the largest
 * request, kept here so the contract table stays readable). Binary fields are base64.
 */
import { type Static, Type } from '@sinclair/typebox';
import { DataKeyBundleJson, SuiteName } from './messages.ts';
import { B64, Id, RecipientKeyB64url } from './vocabulary.ts';

const B64url = Type.String({ pattern: '^[A-Za-z0-9_-]+$', maxLength: 128 });

/**
 * The org's configuration as the org key signed it: `coffer/org-config/v1` from `coffer init`,
 * `coffer/org-config/v2` (with the configuration's version) from a key-admin changing the suite.
 */
export const OrgConfigJson = Type.Union([
  Type.Object({ v: Type.Literal(1), orgKeyId: Id, suite: SuiteName }, { additionalProperties: false }),
  Type.Object(
    { v: Type.Literal(2), orgKeyId: Id, suite: SuiteName, version: Type.Integer({ minimum: 2, maximum: 2 ** 31 }) },
    { additionalProperties: false },
  ),
]);
export type OrgConfigJson = Static<typeof OrgConfigJson>;

const WrappedCopy = Type.Object(
  { recipientKind: Type.Union([Type.Literal('user'), Type.Literal('recovery')]), recipientId: Id, wrapped: B64 },
  { additionalProperties: false },
);

/** `vault.admin.bootstrap`: everything `coffer init` made, stored in one transaction. */
export const BootstrapRequest = Type.Object(
  {
    v: Type.Literal(1),
    org: Type.Object(
      {
        orgKeyId: Id,
        trustRoot: B64url,
        recoveryKeyId: Id,
        recoveryPublicKey: RecipientKeyB64url,
        /** The org key's certificate over (recovery key id, 'recovery', public key). */
        recoveryCertificate: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
        recoveryThreshold: Type.Integer({ minimum: 2, maximum: 255 }),
        recoveryShares: Type.Integer({ minimum: 2, maximum: 255 }),
        /** Absent only from ceremonies of builds before suites: such an org is X25519. */
        config: Type.Optional(OrgConfigJson),
        configSignature: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' })),
      },
      { additionalProperties: false },
    ),
    admin: Type.Object(
      {
        id: Id,
        email: Type.String({ minLength: 3, maxLength: 254 }),
        passwordVerifier: Type.String({ maxLength: 256 }),
        keyVersion: Type.Integer({ minimum: 1 }),
        publicKey: RecipientKeyB64url,
        wrappedPrivateKey: B64,
        certificateSignature: B64url,
        /** The first key-admin's TOTP secret, enrolled at init (issue 9 item 3), sealed to their key. */
        totpSealed: Type.Optional(B64),
      },
      { additionalProperties: false },
    ),
    orgKeyCopies: Type.Array(WrappedCopy, { minItems: 2, maxItems: 2 }),
    dataKeys: Type.Array(
      Type.Object(
        { bundle: DataKeyBundleJson, signature: B64url, copies: Type.Array(WrappedCopy, { maxItems: 64 }) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 64 },
    ),
    /** The vault's reply key (from `status`) and the org key's certificate for it (crypto.md). */
    vaultReplyKey: Type.Optional(
      Type.Object(
        {
          key: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
          certificate: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type BootstrapRequest = Static<typeof BootstrapRequest>;

/** `{v, ok: true, result?}` or `{v, ok: false, error, detail?}`; the result is checked per operation. */
export const AdminReply = Type.Union([
  Type.Object({ v: Type.Literal(1), ok: Type.Literal(true), result: Type.Optional(Type.Unknown()) }),
  Type.Object({
    v: Type.Literal(1),
    ok: Type.Literal(false),
    error: Type.String(),
    detail: Type.Optional(Type.String()),
  }),
]);
export type AdminReply = Static<typeof AdminReply>;

/**
 * A reply signed by the vault's reply key (envelope v2, crypto.md): `reply` is the text of the
 * v1 envelope above, exactly as signed; `key` and `certificate` name the reply key and the org
 * key's certificate for it. Sent only to a request that carried a `replyNonce`.
 */
export const SignedAdminReply = Type.Object(
  {
    v: Type.Literal(2),
    reply: Type.String(),
    key: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }),
    certificate: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
    signature: Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' }),
  },
  { additionalProperties: false },
);
export type SignedAdminReply = Static<typeof SignedAdminReply>;

/**
 * The request member a client adds so that the reply is signed for this request alone: 16 random
 * bytes, base64url. The vault takes it off before the request is checked against its schema, so
 * no operation's schema or request digest changes.
 */
export const REPLY_NONCE = 'replyNonce';
export const REPLY_NONCE_PATTERN = /^[A-Za-z0-9_-]{22}$/;
