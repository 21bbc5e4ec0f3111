/**
 * Subjects and JetStream names of the bus contract. Production uses the bare names; tests pass a
 * namespace so that many test runs can share one nats-server without their streams colliding.
 */
export interface BusNames {
  /** JetStream stream holding submitted records (work-queue retention). */
  readonly stream: string;
  /** Durable pull consumer of the vault on that stream. */
  readonly consumer: string;
  /** Ingest publishes sealed records here. */
  readonly records: string;
  /** Ingest asks the vault for the current signed data key bundle. */
  readonly keysCurrent: string;
  /** Prefix of the admin request/reply API served by the vault (`vault.admin.<operation>`). */
  readonly admin: string;
  /** JetStream stream the vault streams the audit log to, for a SIEM (limits retention). */
  readonly auditStream: string;
  /** Subject of that stream: one JSON line per audit event, Nats-Msg-Id `audit-<seq>`. */
  readonly auditEvents: string;
  /** Durable pull consumer on it that the read-only `siem` bus user reads (the vault creates it). */
  readonly auditConsumer: string;
  /** Prefix of security alerts the vault publishes (`alerts.<kind>`, e.g. alerts.decoy). */
  readonly alerts: string;
}

export function busNames(namespace = ''): BusNames {
  if (namespace !== '' && !/^[a-z0-9_]{1,32}$/.test(namespace)) {
    throw new Error('bus namespace must be 1-32 characters of a-z, 0-9, _');
  }
  const prefix = namespace ? `${namespace}.` : '';
  return {
    stream: namespace ? `INGEST_${namespace}` : 'INGEST',
    consumer: 'vault',
    records: `${prefix}ingest.records`,
    keysCurrent: `${prefix}keys.current`,
    admin: `${prefix}vault.admin`,
    auditStream: namespace ? `AUDIT_${namespace}` : 'AUDIT',
    auditEvents: `${prefix}audit.events`,
    auditConsumer: 'siem',
    alerts: `${prefix}alerts`,
  };
}

/** JetStream's duplicate window for the records stream; Nats-Msg-Id = record id. */
export const DUPLICATE_WINDOW_MS = 2 * 60 * 1000;
