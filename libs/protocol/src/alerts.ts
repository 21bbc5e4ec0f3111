/**
 * Security alerts the vault publishes on `alerts.<kind>` (issue 16): JSON, versioned, for an
 * alerting consumer (nobody answers). Each names the audit event that records the same thing, so
 * a receiver can check it against the audit log. Version 1 is read forever; a new field is a new
 * version.
 */
import { type Static, Type } from '@sinclair/typebox';
import { IsoInstant, Uuid } from './vocabulary.ts';

/** A decoy record was served (item 3); the audit event is `alert.decoy`. */
export const DecoyAlertV1 = Type.Object(
  {
    v: Type.Literal(1),
    kind: Type.Literal('decoy'),
    at: IsoInstant,
    recordId: Uuid,
    auditSeq: Type.Integer({ minimum: 1 }),
    user: Uuid,
    session: Uuid,
    via: Type.Union([Type.Literal('reveal'), Type.Literal('export')]),
    export: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

/** A break-glass recovery is waiting out its delay (item 4c); the audit event is `recovery.enrol`. */
export const RecoveryAlertV1 = Type.Object(
  {
    v: Type.Literal(1),
    kind: Type.Literal('recovery'),
    at: IsoInstant,
    userId: Uuid,
    email: Type.String({ maxLength: 254 }),
    releaseAt: IsoInstant,
  },
  { additionalProperties: false },
);

export const AlertMessage = Type.Union([DecoyAlertV1, RecoveryAlertV1]);
export type AlertMessage = Static<typeof AlertMessage>;
