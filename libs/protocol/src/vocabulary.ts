/**
 * The words every plane uses, defined once: people's roles, identifiers, instants, free text that
 * must fit in PostgreSQL, and the defaults that more than one place needs. Bus contracts and HTTP
 * route schemas are both built from these, so a field means the same thing on either side.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { RECORD_TYPES } from './values.ts';

/** A person's role. Auditors read metadata only; viewers and key-admins hold data keys. */
export const ROLES = ['viewer', 'key-admin', 'auditor'] as const;
export type Role = (typeof ROLES)[number];
export const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
/** The roles that hold data keys: they reveal and export, and receive every new data key. */
export const KEY_HOLDER_ROLES = ['viewer', 'key-admin'] as const satisfies readonly Role[];

/** Account states, in the order a person moves through them. */
export const USER_STATUSES = ['invited', 'unconfirmed', 'active', 'revoked'] as const;
export type UserStatus = (typeof USER_STATUSES)[number];

/** Days in one data key's cryptoperiod unless COFFER_DATA_KEY_DAYS says otherwise. */
export const DEFAULT_DATA_KEY_DAYS = 90;
/** How far ahead `coffer init` makes data keys unless --horizon-days says otherwise. */
export const DEFAULT_HORIZON_DAYS = 365;

/** PostgreSQL text cannot hold NUL: refuse it at the edge as a bad request, not later as an audit outage. */
export const NO_NUL = '^[^\\u0000]*$';

/**
 * Free text that lands in the audit log (issue 9, item 14): no control characters (line breaks
 * included), no bidi overrides, isolates or marks, so a displayed audit line cannot be spoofed.
 */
export const FREE_TEXT_PATTERN =
  '^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069]*$';

/** Any RFC 9562 UUID, lower-case hex (ids the client may hold from any source: records, users, keys). */
export const Uuid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' });
/** A UUIDv7 only: what this system makes for a new record (time-ordered, version and variant checked). */
export const UuidV7 = Type.String({ pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' });
/** An opaque identifier from our own store (bounded, so it fits any column and any log line). */
export const Id = Type.String({ minLength: 1, maxLength: 128 });
/** An instant as the API writes it: UTC, seconds or milliseconds. */
export const Instant = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z$' });
/** An instant exactly as `Date.toISOString()` writes it (what the planes themselves produce). */
export const IsoInstant = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z$' });
/** Hex SHA-256: how the vault knows a session, an invite or a challenge answer. */
export const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$' });
/** Standard base64 (wrapped keys, sealed blobs). */
export const B64 = Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: 16384 });
/** An X25519 or Ed25519 public key, base64url without padding. */
export const PublicKeyB64url = Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' });
/**
 * A person's or the recovery key's public key, base64url without padding: X25519 (32 bytes, 43
 * characters) or X-Wing (1,216 bytes, 1,622 characters; issue 15). The length names the suite.
 */
export const RecipientKeyB64url = Type.String({ pattern: '^(?:[A-Za-z0-9_-]{43}|[A-Za-z0-9_-]{1622})$' });
/** An Ed25519 signature, base64url without padding. */
export const SignatureB64url = Type.String({ pattern: '^[A-Za-z0-9_-]{86}$' });
/** An argon2id verifier string as enrollPassword writes it. */
export const Verifier = Type.String({ maxLength: 256 });
/** A 32-byte token (session, invite) as the browser holds it: base64url. */
// 32 bytes in canonical base64url: the last character carries 2 unused bits, which must be zero,
// so a token that is not one is refused here (400), not by the decoder after the schema (500).
export const Token = Type.String({ pattern: '^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$' });

/** An email as typed; addresses are compared lower-cased. */
export const Email = Type.String({ minLength: 3, maxLength: 254, pattern: FREE_TEXT_PATTERN });
/** An email as a new account's address: one @, no spaces. */
export const EmailAddress = Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@\\u0000]+@[^\\s@\\u0000]+$' });
/** A password as typed (the policy is applied by @coffer/policy, not by the schema). */
export const Password = Type.String({ minLength: 1, maxLength: 1024, pattern: NO_NUL });
/** Why a person reads a value: required, audited with the event. */
export const Reason = Type.String({ minLength: 3, maxLength: 500, pattern: FREE_TEXT_PATTERN });
/** Where a request came from (client address and user agent), for the audit log. */
export const Origin = Type.String({ maxLength: 200, pattern: NO_NUL });
/** A six-digit TOTP code. */
export const TotpCode = Type.String({ pattern: '^[0-9]{6}$' });
/** A TOTP time step: 30-second periods since the epoch. */
export const TotpStep = Type.Integer({ minimum: 0, maximum: 2 ** 40 });
export const RecordTypeSchema = Type.Union(RECORD_TYPES.map((t) => Type.Literal(t)));

/** A closed object: unknown fields are refused, not ignored. */
export const Closed = <T extends Record<string, TSchema>>(props: T) =>
  Type.Object(props, { additionalProperties: false });
/** A versioned bus message: `v: 1` and exactly these fields. */
export const Versioned = <T extends Record<string, TSchema>>(props: T) =>
  Type.Object({ v: Type.Literal(1), ...props }, { additionalProperties: false });

export type { Static };
