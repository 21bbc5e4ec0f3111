/**
 * Security alerts the vault publishes on `alerts.<kind>` (issue 16): JSON, versioned, for an
 * alerting consumer (nobody answers). Each names the audit event that records the same thing, so
 * a receiver can check it against the audit log. Version 1 is read forever; a new field is a new
 * version.
 */
import { type Static, type TProperties, Type } from '@sinclair/typebox';
import { IsoInstant, Uuid } from './vocabulary.ts';

/** What every alert carries: its version, its kind (the subject's last token) and when it happened. */
function alertV1<K extends string, P extends TProperties>(kind: K, fields: P) {
  return Type.Object(
    { v: Type.Literal(1), kind: Type.Literal(kind), at: IsoInstant, ...fields },
    { additionalProperties: false },
  );
}

/** A decoy record was served (item 3); the audit event is `alert.decoy`. */
export const DecoyAlertV1 = alertV1('decoy', {
  recordId: Uuid,
  auditSeq: Type.Integer({ minimum: 1 }),
  user: Uuid,
  session: Uuid,
  via: Type.Union([Type.Literal('reveal'), Type.Literal('export')]),
  export: Type.Optional(Uuid),
});

/** A break-glass recovery is waiting out its delay (item 4c); the audit event is `recovery.enrol`. */
export const RecoveryAlertV1 = alertV1('recovery', {
  userId: Uuid,
  email: Type.String({ maxLength: 254 }),
  releaseAt: IsoInstant,
});

export const AlertMessage = Type.Union([DecoyAlertV1, RecoveryAlertV1]);
export type AlertMessage = Static<typeof AlertMessage>;
