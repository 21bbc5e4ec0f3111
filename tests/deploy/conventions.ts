/**
 * The names the manifests share with the build and the PKI (deploy/README.md, "Conventions"), in
 * one place for the tests: a manifest that drifts from these fails tests/deploy/*.test.ts.
 */
export const SECRETS_DIR = '/run/secrets';

/** Environment a plane needs for NATS over mutual TLS; each plane mounts its own certificate here. */
export const NATS_TLS_ENV = {
  NATS_TLS_CERT: `${SECRETS_DIR}/nats-client.crt`,
  NATS_TLS_KEY: `${SECRETS_DIR}/nats-client.key`,
  NATS_TLS_CA: `${SECRETS_DIR}/ca.crt`,
} as const;

/** Ingest and admin serving HTTPS themselves. */
export const HTTP_TLS_ENV = {
  COFFER_TLS_CERT: `${SECRETS_DIR}/https.crt`,
  COFFER_TLS_KEY: `${SECRETS_DIR}/https.key`,
  COFFER_TLS_CA: `${SECRETS_DIR}/ca.crt`,
} as const;

/** The vault (and the migration job) reaching PostgreSQL with a client certificate. */
export const PG_TLS_ENV = {
  DATABASE_SSL_CERT: `${SECRETS_DIR}/pg-client.crt`,
  DATABASE_SSL_KEY: `${SECRETS_DIR}/pg-client.key`,
  DATABASE_SSL_CA: `${SECRETS_DIR}/ca.crt`,
} as const;

/** Which TLS environment each plane gets. */
export const PLANE_TLS: Record<'ingest' | 'vault' | 'admin', Record<string, string>[]> = {
  ingest: [NATS_TLS_ENV, HTTP_TLS_ENV],
  vault: [NATS_TLS_ENV, PG_TLS_ENV],
  admin: [NATS_TLS_ENV, HTTP_TLS_ENV],
};

/** The listen port of each plane (the vault's serves health and metrics only). */
export const PORTS = { ingest: 8080, admin: 8081, vault: 8082, bus: 4222, database: 5432 } as const;

/** Environment names whose value is a secret, which no manifest may write as a literal. */
export const SECRET_NAME = /PASSWORD|SECRET|TOKEN|PRIVATE|_KEY$/;

/**
 * The one literal a secret-named variable may hold: the NATS config text `""` (no password) that
 * the mutual-TLS bus gives the password variables of the shared permissions.conf.
 */
export const NO_PASSWORD = '""';

/**
 * Where the vault and admin keep security state that must outlive a restart and never sits in the
 * database: a volume of their own (compose: a named volume; Kubernetes: a PVC per pod).
 */
export const STATE_DIR = '/var/lib/coffer';

/** The state each plane keeps under STATE_DIR, by the variable that names it. */
export const STATE_ENV: Record<'vault' | 'admin', Record<string, string>> = {
  vault: {
    COFFER_VAULT_REPLY_KEY_FILE: `${STATE_DIR}/vault-reply-key.json`,
    COFFER_AUDIT_CHECKPOINT_DIR: `${STATE_DIR}/audit`,
  },
  admin: { COFFER_REVOCATION_STATE_FILE: `${STATE_DIR}/revocation-state.json` },
};
