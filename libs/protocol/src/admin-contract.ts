/**
 * The admin ↔ vault contract: every operation on `vault.admin.<op>` is one row of this table —
 * its request schema, its reply schema and its policy (who may call it). The client
 * (`callVault` in @coffer/bus) infers request and reply types from it and checks each reply; the
 * vault's router is typed over it, decodes each request once and applies the policy before the
 * handler runs. Adding an operation is one row here, one handler in the vault, one test.
 *
 * Every call made for a signed-in person carries `session`: hex SHA-256 of their session token,
 * never the token itself.
 */
import { type Static, type TObject, type TSchema, Type } from '@sinclair/typebox';
import { BootstrapRequest, OrgConfigJson } from './admin-messages.ts';
import * as R from './admin-replies.ts';
import { SuiteName } from './messages.ts';
import { PasskeyContract } from './passkey-contract.ts';
import {
  B64,
  Closed,
  Email,
  Hex64,
  Id,
  Instant,
  KEY_HOLDER_ROLES,
  NO_NUL,
  Origin,
  PublicKeyB64url,
  Reason,
  RecipientKeyB64url,
  RecordTypeSchema,
  ROLES,
  type Role,
  RoleSchema,
  SignatureB64url,
  TotpStep,
  Uuid,
  Verifier,
  Versioned,
} from './vocabulary.ts';

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
const entry = <Req extends TObject, Rep extends TSchema, const P extends Policy<Req>>(e: ContractEntry<Req, Rep, P>) =>
  e;
const signedIn = { session: 'required' } as const;
/** Key management unwraps the org key and every data key: the same second factor as a reveal. */
const keyAdmin = (audit: string) => ({ session: 'required', roles: ['key-admin'], mfa: true, audit }) as const;

const Seq = Type.Integer({ minimum: 0, maximum: 2 ** 52 });
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: NO_NUL });

const Copy = Type.Object({ keyId: Id, wrapped: B64 }, { additionalProperties: false });

export const AdminContract = {
  /** Whether `coffer init` has run, and the trust root it pinned. */
  status: entry({ request: Versioned({}), reply: R.OrgStatus, policy: { session: 'none' } }),
  /** Everything `coffer init` made, verified against its own trust root and stored once. */
  bootstrap: entry({ request: BootstrapRequest, reply: R.Bootstrapped, policy: { session: 'none' } }),

  /**
   * Sign-in, step 1: count the attempt against the email (known or not) and, unless it is locked,
   * return what the admin plane needs to check the password, or `found: false`.
   */
  'signin.begin': entry({
    request: Versioned({ email: Email, origin: Origin }),
    reply: R.SigninLookup,
    policy: { session: 'none' },
  }),
  /** A failed sign-in: audited (the attempt was already counted). */
  'signin.fail': entry({
    request: Versioned({
      email: Email,
      userId: Type.Union([Id, Type.Null()]),
      origin: Origin,
      /** Set when the password was right and the TOTP code missing, wrong or used before. */
      reason: Type.Optional(Type.Literal('totp')),
    }),
    reply: R.Done,
    policy: { session: 'none' },
  }),
  /** A successful sign-in: the password proof is checked, then the session stored and audited. */
  'signin.complete': entry({
    request: Versioned({
      userId: Id,
      challengeId: Id,
      /** Signature by the password's key over the challenge, the user and this session's hash. */
      proof: SignatureB64url,
      session: Hex64,
      sessionId: Id,
      wrappedKey: B64,
      origin: Origin,
      /** The TOTP step the admin plane accepted; the vault takes it only if later than the last. */
      totpStep: Type.Optional(TotpStep),
      /** Present when the password was re-enrolled with today's parameters at this sign-in. */
      rehash: Type.Optional(
        Type.Object({ verifier: Verifier, wrappedPrivateKey: B64 }, { additionalProperties: false }),
      ),
    }),
    reply: R.SessionWindow,
    // The proof, not a session, is what this call shows; the handler checks it.
    policy: { session: 'none' },
  }),
  signout: entry({ request: Versioned({ session: Hex64, origin: Origin }), reply: R.Done, policy: signedIn }),
  /** Who this session belongs to (and it keeps the session alive). */
  whoami: entry({ request: Versioned({ session: Hex64 }), reply: R.Whoami, policy: signedIn }),
  /** A request the admin plane refused (e.g. no CSRF header): audited against a live session only. */
  denied: entry({
    request: Versioned({ session: Hex64, action: Id, reason: Type.String({ maxLength: 200 }), origin: Origin }),
    reply: R.Done,
    policy: { session: 'optional' },
  }),

  'records.list': entry({
    request: Versioned({
      session: Hex64,
      type: Type.Optional(RecordTypeSchema),
      before: Type.Optional(Uuid),
      limit: Type.Integer({ minimum: 1, maximum: 500 }),
    }),
    reply: R.RecordPage,
    policy: { session: 'required', roles: ROLES, audit: 'records.list' },
  }),
  /** Audit first, then return the sealed record and this user's keys to open it. */
  'records.reveal': entry({
    request: Versioned({
      session: Hex64,
      recordId: Id,
      reason: Reason,
      origin: Origin,
      /** Names this reveal, so a `records.reveal-undelivered` can say which one never arrived. */
      requestId: Type.Optional(Uuid),
    }),
    reply: R.SealedForUser,
    policy: { session: 'required', roles: KEY_HOLDER_ROLES, mfa: true, audit: 'record.reveal', target: 'recordId' },
  }),
  /**
   * The admin plane timed out waiting for a reveal (issue 9 item 4d): audit that the person did
   * not receive it, and never release that request after this.
   */
  'records.reveal-undelivered': entry({
    request: Versioned({ session: Hex64, recordId: Id, requestId: Uuid, error: Id, origin: Origin }),
    reply: R.Done,
    policy: { session: 'required', roles: KEY_HOLDER_ROLES, audit: 'record.reveal', target: 'recordId' },
  }),
  /** The admin plane could not open what it was given: audit the failure. */
  'records.reveal-failed': entry({
    request: Versioned({ session: Hex64, recordId: Id, error: Id, origin: Origin }),
    reply: R.Done,
    policy: { session: 'required', roles: KEY_HOLDER_ROLES, audit: 'record.reveal', target: 'recordId' },
  }),

  'export.begin': entry({
    request: Versioned({
      session: Hex64,
      reason: Reason,
      type: Type.Optional(RecordTypeSchema),
      from: Type.Optional(Instant),
      to: Type.Optional(Instant),
      /** issue 16 item 4a: the approved request this export runs, when the filter needs one. */
      approvalId: Type.Optional(Uuid),
      origin: Origin,
    }),
    reply: R.ExportBegun,
    policy: { session: 'required', roles: KEY_HOLDER_ROLES, mfa: true, audit: 'export' },
  }),
  /** One page of an export this session began: the vault applies the filter audited at the start. */
  'export.page': entry({
    request: Versioned({
      session: Hex64,
      exportId: Id,
      after: Type.Optional(Uuid),
      limit: Type.Integer({ minimum: 1, maximum: 2000 }),
    }),
    reply: R.ExportPage,
    policy: { session: 'required', roles: KEY_HOLDER_ROLES, mfa: true, audit: 'export', target: 'exportId' },
  }),
  /**
   * The same page in the binary format (issue 14 item 4): one buffer per page instead of a JSON
   * object with base64 fields per record, larger pages. An admin plane falls back to
   * `export.page` when an older vault answers `unknown-operation`; both stay served.
   */
  'export.chunk': entry({
    request: Versioned({
      session: Hex64,
      exportId: Id,
      after: Type.Optional(Uuid),
      limit: Type.Integer({ minimum: 1, maximum: 8192 }),
    }),
    reply: R.ExportChunk,
    policy: { session: 'required', roles: KEY_HOLDER_ROLES, mfa: true, audit: 'export', target: 'exportId' },
  }),
  /**
   * The same binary page, sent as it is: the reply is a binary frame (reply-frame.ts) whose
   * attachment is the page, signed once over it, instead of base64 in JSON in the JSON envelope.
   * An admin plane falls back to `export.chunk` when an older vault answers `unknown-operation`.
   */
  'export.block': entry({
    request: Versioned({
      session: Hex64,
      exportId: Id,
      after: Type.Optional(Uuid),
      limit: Type.Integer({ minimum: 1, maximum: 8192 }),
    }),
    reply: R.ExportBlock,
    policy: { session: 'required', roles: KEY_HOLDER_ROLES, mfa: true, audit: 'export', target: 'exportId' },
  }),
  'export.finish': entry({
    request: Versioned({
      session: Hex64,
      exportId: Id,
      count: Type.Integer({ minimum: 0 }),
      outcome: Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('aborted')]),
      origin: Origin,
    }),
    reply: R.Done,
    policy: signedIn,
  }),

  /** Records metadata, newest first, by type and submission time; `before` pages to older ones. */
  'records.search': entry({
    request: Versioned({
      session: Hex64,
      type: Type.Optional(RecordTypeSchema),
      from: Type.Optional(Instant),
      to: Type.Optional(Instant),
      before: Type.Optional(Uuid),
      limit: Type.Integer({ minimum: 1, maximum: 500 }),
    }),
    reply: R.RecordSearchPage,
    policy: { session: 'required', roles: ROLES, audit: 'records.list' },
  }),

  'audit.list': entry({
    request: Versioned({
      session: Hex64,
      after: Type.Optional(Type.Integer({ minimum: 0 })),
      limit: Type.Integer({ minimum: 1, maximum: 500 }),
    }),
    reply: R.AuditPage,
    policy: { session: 'required', roles: ['auditor', 'key-admin'], audit: 'audit.list' },
  }),
  'audit.verify': entry({
    request: Versioned({ session: Hex64 }),
    reply: R.ChainVerdict,
    policy: { session: 'required', roles: ['auditor', 'key-admin'], audit: 'audit.verify' },
  }),

  /**
   * Audit events newest first, filtered; `before` pages to older events, `after` to newer ones
   * (at most one of them). Actors come with their email where the actor is a user. A viewer reads
   * only their own events (the handler narrows them); auditors and key-admins read everyone's.
   */
  'audit.search': entry({
    request: Versioned({
      session: Hex64,
      before: Type.Optional(Seq),
      after: Type.Optional(Seq),
      actor: Type.Optional(Text(254)),
      action: Type.Optional(Text(64)),
      target: Type.Optional(Text(128)),
      outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure'), Type.Literal('denied')])),
      from: Type.Optional(Instant),
      to: Type.Optional(Instant),
      limit: Type.Integer({ minimum: 1, maximum: 500 }),
    }),
    reply: R.AuditSearchPage,
    policy: { session: 'required', roles: ROLES, audit: 'audit.list' },
  }),

  /** Key-admins: every user with role, status, MFA, last sign-in and the open invite's expiry. */
  'users.list': entry({
    request: Versioned({ session: Hex64 }),
    reply: R.PeopleList,
    policy: keyAdmin('users.list'),
  }),
  /** Key-admins: a new invite for a user still in `invited` (the old one, used or not, is dropped). */
  'users.reinvite': entry({
    request: Versioned({ session: Hex64, userId: Uuid, inviteHash: Hex64, origin: Origin }),
    reply: R.InviteIssued,
    policy: { ...keyAdmin('user.reinvite'), target: 'userId' },
  }),
  /** A key-admin invites a person: the user row and a single-use invite (token hash only). */
  'users.invite': entry({
    request: Versioned({ session: Hex64, email: Email, role: RoleSchema, inviteHash: Hex64, origin: Origin }),
    reply: R.InviteMade,
    policy: { ...keyAdmin('user.invite'), target: 'email' },
  }),
  /**
   * The invitation the key-admin signed with the org key (issue 9, item 1), stored with the
   * invited user: at confirmation the admin plane certifies only for its role.
   */
  'users.invitation': entry({
    request: Versioned({
      session: Hex64,
      userId: Id,
      invitation: Closed({
        v: Type.Literal(1),
        inviteId: Id,
        userId: Id,
        email: Email,
        role: RoleSchema,
        expiresAt: Instant,
      }),
      signature: SignatureB64url,
      origin: Origin,
    }),
    reply: R.Done,
    policy: { ...keyAdmin('user.invite'), target: 'userId' },
  }),
  /** Who an unused, unexpired invite is for. */
  'invites.lookup': entry({
    request: Versioned({ inviteHash: Hex64 }),
    reply: R.InviteLookup,
    policy: { session: 'none' },
  }),
  /** The invitee set a password; the admin plane made their keys. Uses the invite up. */
  'invites.accept': entry({
    request: Versioned({
      inviteHash: Hex64,
      keyVersion: Type.Integer({ minimum: 1 }),
      verifier: Verifier,
      publicKey: RecipientKeyB64url,
      wrappedPrivateKey: B64,
      origin: Origin,
    }),
    reply: R.InviteAccepted,
    policy: { session: 'none' },
  }),
  /** What a key-admin's session needs to confirm a user: their key, and the caller's copies. */
  'users.confirm-material': entry({
    request: Versioned({ session: Hex64, userId: Id }),
    reply: R.ConfirmMaterial,
    policy: { ...keyAdmin('user.confirm'), target: 'userId' },
  }),
  /** Store a confirmed user's certificate and the keys wrapped to them. */
  'users.confirm': entry({
    request: Versioned({
      session: Hex64,
      userId: Id,
      certificateSignature: SignatureB64url,
      dataKeys: Type.Array(Copy, { maxItems: 512 }),
      orgKey: Type.Optional(B64),
      origin: Origin,
    }),
    reply: R.Confirmed,
    policy: { ...keyAdmin('user.confirm'), target: 'userId' },
  }),
  /**
   * Revoke: wrapped keys and sessions gone; keys made later never include the user; data keys of
   * windows not yet begun are destroyed (issue 15, item 2). `revocations`: the next signed list,
   * naming the user, stored in the same transaction.
   */
  'users.revoke': entry({
    request: Versioned({ session: Hex64, userId: Id, origin: Origin, revocations: Type.Optional(R.SignedRevocations) }),
    reply: R.Done,
    policy: { ...keyAdmin('user.revoke'), target: 'userId' },
  }),
  /** A forgotten password: new keys are needed, so the user is invited (and confirmed) again. */
  'users.reset': entry({
    request: Versioned({
      session: Hex64,
      userId: Id,
      inviteHash: Hex64,
      origin: Origin,
      revocations: Type.Optional(R.SignedRevocations),
    }),
    reply: R.InviteIssued,
    policy: { ...keyAdmin('user.reset'), target: 'userId' },
  }),
  /** Change one's own password: the same key, re-wrapped under the new KEK; other sessions end. */
  'me.password': entry({
    request: Versioned({
      session: Hex64,
      /** Proof of the current password over a fresh challenge, the user and 'password-change'. */
      challengeId: Id,
      proof: SignatureB64url,
      verifier: Verifier,
      wrappedPrivateKey: B64,
      origin: Origin,
    }),
    reply: R.Done,
    policy: signedIn,
  }),

  /** The caller's own live sessions, this one marked. */
  'me.sessions': entry({ request: Versioned({ session: Hex64 }), reply: R.OwnSessions, policy: signedIn }),
  /** End every other session of the caller. */
  'me.sessions.end-others': entry({
    request: Versioned({ session: Hex64, origin: Origin }),
    reply: R.SessionsEnded,
    policy: signedIn,
  }),

  /** End one other session of the caller's own: its row and wrapped key go at once. Audited. */
  'me.sessions.end': entry({
    request: Versioned({ session: Hex64, sessionId: Uuid, origin: Origin }),
    reply: R.SessionsEnded,
    policy: signedIn,
  }),
  /** Key-admins: every live session (who, from where, when, with which second factor). */
  'sessions.list': entry({
    request: Versioned({ session: Hex64 }),
    reply: R.LiveSessions,
    policy: keyAdmin('sessions.list'),
  }),
  /** Key-admins: end any session; its wrapped key is deleted in the same transaction. Audited. */
  'sessions.end': entry({
    request: Versioned({ session: Hex64, sessionId: Uuid, origin: Origin }),
    reply: R.SessionsEnded,
    policy: { ...keyAdmin('session.end'), target: 'sessionId' },
  }),

  'keys.list': entry({ request: Versioned({ session: Hex64 }), reply: R.KeyList, policy: keyAdmin('keys.list') }),
  /**
   * After a legitimate backup restore (issue 15, item 2): store again the newest signed revocation
   * list the admin plane remembers — newer than the stored one and keeping all its entries — and
   * apply it to the restored rows (revoked people revoked again, retired keys cleared).
   */
  'revocations.restore': entry({
    request: Versioned({ session: Hex64, revocations: R.SignedRevocations, origin: Origin }),
    reply: R.RevocationsRestored,
    policy: keyAdmin('revocations.restore'),
  }),
  /** What a key-admin's session needs to make the next data keys. */
  'keys.material': entry({
    request: Versioned({ session: Hex64 }),
    reply: R.KeysMaterial,
    policy: keyAdmin('keys.pregenerate'),
  }),
  /**
   * Key-admins: the org key's certificate for the vault's reply key (from `status`), for an
   * installation initialised before replies were signed (crypto.md, operations.md).
   */
  'keys.certify-vault': entry({
    request: Versioned({ session: Hex64, key: PublicKeyB64url, certificate: SignatureB64url, origin: Origin }),
    reply: R.Done,
    policy: keyAdmin('vault.certify'),
  }),
  'keys.store': entry({
    request: Versioned({
      session: Hex64,
      dataKeys: Type.Array(
        Type.Object(
          {
            bundle: R.DataKeyBundleJson,
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
        ),
        { minItems: 1, maxItems: 64 },
      ),
      origin: Origin,
      /**
       * A rotation (issue 15, item 1): the first key's window begins now and supersedes the current
       * key; data keys of windows not yet begun are destroyed first.
       */
      rotate: Type.Optional(Type.Literal(true)),
    }),
    reply: R.KeysStored,
    policy: keyAdmin('keys.pregenerate'),
  }),

  /**
   * `coffer reseal` (issue 15, item 3): begin, or resume, moving every record of these data keys
   * to the current key; audited once at the start and once, with counts, at the end.
   */
  'reseal.begin': entry({
    request: Versioned({
      session: Hex64,
      keyIds: Type.Array(Id, { maxItems: 16 }),
      /** Also every key of this suite (`coffer reseal --suite x25519`), resolved by the vault. */
      suite: Type.Optional(SuiteName),
      origin: Origin,
    }),
    reply: R.ResealBegun,
    policy: keyAdmin('keys.reseal'),
  }),
  /** The next `limit` records of a run, sealed as stored, with the caller's copies of their keys. */
  'reseal.material': entry({
    request: Versioned({ session: Hex64, runId: Id, limit: Type.Integer({ minimum: 1, maximum: 500 }) }),
    reply: R.ResealMaterial,
    policy: keyAdmin('keys.reseal'),
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
    reply: R.ResealStored,
    policy: keyAdmin('keys.reseal'),
  }),

  /**
   * A key-admin changes the suite the org's new keys are made in (issue 15, item 3): the next
   * configuration, signed by the org key through their session. The vault stores it only if it
   * verifies under the trust root, is newer than the stored one and is no downgrade from X-Wing.
   */
  'org.config.store': entry({
    request: Versioned({ session: Hex64, config: OrgConfigJson, signature: SignatureB64url, origin: Origin }),
    reply: R.OrgConfigStored,
    policy: keyAdmin('org.config'),
  }),

  /** Break-glass, step 1: a challenge sealed to the recovery key, and the recovery key's copies. */
  'recovery.begin': entry({
    request: Versioned({ origin: Origin }),
    reply: R.RecoveryMaterial,
    policy: { session: 'none' },
  }),
  /** Break-glass, step 2: the opened challenge and a new key-admin made with the recovered keys. */
  'recovery.enrol': entry({
    request: Versioned({
      challengeId: Id,
      answer: PublicKeyB64url,
      admin: Type.Object(
        {
          id: Id,
          email: Email,
          passwordVerifier: Verifier,
          keyVersion: Type.Integer({ minimum: 1 }),
          publicKey: RecipientKeyB64url,
          wrappedPrivateKey: B64,
          certificateSignature: SignatureB64url,
          /** The new key-admin's TOTP secret sealed to their key (issue 9 item 3); see `coffer recover`. */
          totpSealed: Type.Optional(B64),
        },
        { additionalProperties: false },
      ),
      orgKey: B64,
      dataKeys: Type.Array(Copy, { maxItems: 512 }),
      origin: Origin,
    }),
    reply: R.RecoveryEnrolled,
    policy: { session: 'none' },
  }),

  /** What TOTP enrolment needs: the caller's email, session key material and pending secret. */
  'totp.material': entry({ request: Versioned({ session: Hex64 }), reply: R.TotpMaterial, policy: signedIn }),
  /**
   * Offer a new TOTP secret (sealed to the caller's key) for enrolment; replaces any pending one.
   * A confirmed account without TOTP must send `enrolCode`, the SHA-256 of a one-time code a
   * key-admin issued (issue 9 item 3); it is used up here.
   */
  'totp.pending': entry({
    request: Versioned({ session: Hex64, sealed: B64, enrolCode: Type.Optional(Hex64), origin: Type.Optional(Origin) }),
    reply: R.Done,
    policy: signedIn,
  }),
  /** Key-admins: a one-time code (its SHA-256 only) that lets another confirmed user enrol TOTP. */
  'users.enrol-code': entry({
    request: Versioned({ session: Hex64, userId: Id, codeHash: Hex64, origin: Origin }),
    reply: R.EnrolCodeIssued,
    policy: { ...keyAdmin('user.enrol-code'), target: 'userId' },
  }),
  /** A code for the pending secret matched at `step`: it becomes the caller's TOTP. Audited. */
  'totp.enrol': entry({
    request: Versioned({ session: Hex64, pending: B64, step: TotpStep, origin: Origin }),
    reply: R.Done,
    policy: signedIn,
  }),
  /** A code for the pending secret did not match: audited as a failed enrolment. */
  'totp.enrol-failed': entry({
    request: Versioned({ session: Hex64, error: Id, origin: Origin }),
    reply: R.Done,
    policy: signedIn,
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
    reply: R.DecoysPlanted,
    policy: keyAdmin('decoy.plant'),
  }),

  // issue 16 item 4a: an export above the configured size waits for a second key-admin.
  /** Ask for an export: counts what the filter selects; above the threshold, a pending request. */
  'export.request': entry({
    request: Versioned({
      session: Hex64,
      reason: Reason,
      type: Type.Optional(RecordTypeSchema),
      from: Type.Optional(Instant),
      to: Type.Optional(Instant),
      origin: Origin,
    }),
    reply: R.ExportRequested,
    policy: { session: 'required', roles: KEY_HOLDER_ROLES, mfa: true, audit: 'export.request' },
  }),
  /** Key-admins see every request; a viewer sees their own. */
  'export.approvals': entry({
    request: Versioned({ session: Hex64 }),
    reply: R.ExportApprovals,
    policy: { session: 'required', roles: KEY_HOLDER_ROLES, audit: 'export.approvals' },
  }),
  /** A second key-admin (never the requester) approves or denies a pending request. */
  'export.decide': entry({
    request: Versioned({
      session: Hex64,
      approvalId: Uuid,
      decision: Type.Union([Type.Literal('approve'), Type.Literal('deny')]),
      origin: Origin,
    }),
    reply: R.ExportApproval,
    policy: { ...keyAdmin('export.decide'), target: 'approvalId' },
  }),
  // issue 16 item 4b: a second key-admin compared the fingerprint of a key-admin being confirmed.
  'users.cosign': entry({
    request: Versioned({ session: Hex64, userId: Uuid, publicKey: RecipientKeyB64url, origin: Origin }),
    reply: R.Done,
    policy: { ...keyAdmin('user.cosign'), target: 'userId' },
  }),
  // issue 16 item 4c: break-glass recoveries waiting out their delay; any key-admin may cancel one.
  'recovery.holds': entry({
    request: Versioned({ session: Hex64 }),
    reply: R.RecoveryHolds,
    policy: keyAdmin('recovery.holds'),
  }),
  'recovery.cancel': entry({
    request: Versioned({ session: Hex64, userId: Uuid, origin: Origin }),
    reply: R.Done,
    policy: { ...keyAdmin('recovery.cancel'), target: 'userId' },
  }),
  /**
   * issue 16 item 4c, the immediate path: a second officer (`coffer recover --release-now`, a run
   * of its own with its own `recovery.begin` challenge) releases a held recovery at once. The
   * answer proves k shares; `approval` is the org key's signature (coffer/recovery-release/v1)
   * over the challenge, the held account and its key's fingerprint, checked against the trust root.
   */
  'recovery.release-now': entry({
    request: Versioned({
      challengeId: Id,
      answer: PublicKeyB64url,
      userId: Uuid,
      fingerprint: Type.String({ pattern: '^[0-9]{30}$' }),
      approval: SignatureB64url,
      origin: Origin,
    }),
    reply: R.Done,
    policy: { session: 'none' },
  }),

  ...PasskeyContract,
} as const;

export type AdminOperation = keyof typeof AdminContract;
export type AdminRequest<Op extends AdminOperation> = Static<(typeof AdminContract)[Op]['request']>;
export type AdminResult<Op extends AdminOperation> = Static<(typeof AdminContract)[Op]['reply']>;
export type AdminPolicy<Op extends AdminOperation> = (typeof AdminContract)[Op]['policy'];
export const ADMIN_OPERATIONS = Object.keys(AdminContract) as AdminOperation[];

export function isAdminOperation(op: string): op is AdminOperation {
  return Object.hasOwn(AdminContract, op);
}
