/**
 * What every area of the admin ↔ vault contract (admin-contract.ts) is made of: the policy type,
 * the row type, the row builders and the reply pieces several areas share.
 */
import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';
import { OrgConfigJson } from '../admin-messages.ts';
import { DataKeyBundleJson } from '../messages.ts';
import { B64, Hex64, Id, Instant, RecordTypeSchema, type Role, USER_STATUSES, Versioned } from '../vocabulary.ts';

/**
 * Who may call an operation, applied by the vault before its handler runs:
 * - `none`: no session (sign-in, invite acceptance, bootstrap and break-glass, which prove
 *   themselves in their own way);
 * - `optional`: the handler gets the caller if the session is live, else none;
 * - `required`: a live session; with `roles`, also a confirmed (`active`) user in one of them;
 *   with `mfa`, and COFFER_REQUIRE_MFA on, a session opened with a TOTP code for the roles that
 *   hold data keys. A refusal is audited as `audit` against the request's `target` field.
 */
export type Policy<Req extends TObject = TObject> =
  | { readonly session: 'none' }
  | ('session' extends keyof Req['properties']
      ?
          | { readonly session: 'optional' }
          | {
              readonly session: 'required';
              readonly roles?: readonly Role[];
              readonly mfa?: boolean;
              /** The audit action a refusal is recorded under. */
              readonly audit?: string;
              /** The request field that names what was refused, for the audit event. */
              readonly target?: keyof Req['properties'] & string;
            }
      : never);

export interface ContractEntry<Req extends TObject = TObject, Rep extends TSchema = TSchema, P = Policy<Req>> {
  readonly request: Req;
  readonly reply: Rep;
  readonly policy: P;
}

// Keeps each policy's literal type, so a handler's context follows from its row.
export const entry = <Req extends TObject, Rep extends TSchema, const P extends Policy<Req>>(
  e: ContractEntry<Req, Rep, P>,
) => e;

export const none = { session: 'none' } as const;
export const signedIn = { session: 'required' } as const;
/** Key management unwraps the org key and every data key: the same second factor as a reveal. */
export const keyAdmin = (audit: string) => ({ session: 'required', roles: ['key-admin'], mfa: true, audit }) as const;
/** A key-admin's operation on one named thing (a user, a session, a request). */
export const keyAdminOn = <const T extends string>(audit: string, target: T) =>
  ({ ...keyAdmin(audit), target }) as const;

/** A row that proves itself without a session: sign-in, invites, bootstrap and break-glass. */
export const openRow = <Req extends TObject, Rep extends TSchema>(request: Req, reply: Rep) =>
  entry({ request, reply, policy: none });
/** A row any signed-in person may call, about themselves. */
export const ownRow = <Req extends TObject & { properties: { session: TSchema } }, Rep extends TSchema>(
  request: Req,
  reply: Rep,
) => ({ request, reply, policy: signedIn }) as const;

/** A request that carries nothing but the caller's session. */
export const SessionOnly = Versioned({ session: Hex64 });

export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
export const Status = Type.Union(USER_STATUSES.map((s) => Type.Literal(s)));

/** No result: the reply is `{v: 1, ok: true}`. */
export const Done = Type.Undefined();

/** The session-wrapped user key and the ids it is bound to. */
export const SessionKeyMaterial = Type.Object({ sessionId: Id, userId: Id, wrappedKey: B64 });
export type SessionKeyMaterial = Static<typeof SessionKeyMaterial>;

export const WrappedDataKey = Type.Object({ keyId: Id, wrapped: B64 });
/** A copy of one data key wrapped to a user, in a request. */
export const Copy = Type.Object({ keyId: Id, wrapped: B64 }, { additionalProperties: false });

/**
 * `contextEnc`: base64 of the record context's enc for a version-2 blob, null for version 1 — and,
 * in an export page, null for an X-Wing context's record, whose enc the page's `contexts` carries
 * once (1,120 bytes on every record would take a page of 1,000 past the bus's message limit).
 */
export const SealedRecord = Type.Object({
  id: Id,
  type: RecordTypeSchema,
  dataKeyId: Id,
  sealed: B64,
  contextEnc: Nullable(B64),
});

/**
 * The newest revocation list as the vault stores it (issue 15, item 2), signed by the org key; the
 * admin plane verifies it and its counter before wrapping anything. Absent from an older vault.
 */
export const SignedRevocations = Type.Object(
  { list: Type.Unknown(), signature: Type.String({ maxLength: 200 }) },
  { additionalProperties: false },
);
export type SignedRevocations = Static<typeof SignedRevocations>;

/**
 * issue 15: the org's signed configuration (its suite) and the data keys as signed (the suite
 * floor when the configuration is missing), which a new key is made in; null for an org
 * made before suites, absent from a vault made before them (whose orgs are X25519).
 */
export const SuiteFloor = {
  config: Type.Optional(Nullable(Type.Object({ config: OrgConfigJson, signature: Type.String() }))),
  newestKey: Type.Optional(Nullable(Type.Object({ bundle: DataKeyBundleJson, signature: Type.String() }))),
  /**
   * Data keys' bundles as signed, a bounded set: the 16 newest by `not_after`, one X-Wing key chosen
   * by its signed content (one that records use first), the newest key records use and one row
   * whose bundle names another id, each with its row's id: at most 19 (about 37 KB as JSON for
   * X-Wing; every key's would outgrow a 1 MiB bus message near 530 keys). The
   * admin plane (or the CLI) verifies each: any X-Wing one is the suite floor (suites only move
   * forward). Absent from an older vault, which sends only newestKey.
   */
  dataKeyBundles: Type.Optional(Type.Array(Type.Object({ bundle: DataKeyBundleJson, signature: Type.String() }))),
};

/** When a session began, was last seen and ends. */
export const SessionTimes = {
  createdAt: Instant,
  lastSeenAt: Instant,
  idleExpiresAt: Instant,
  absoluteExpiresAt: Instant,
};
