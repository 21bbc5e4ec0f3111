-- The organisation: its trust root and recovery key, written once by `coffer init`.
CREATE TABLE org (
  singleton            boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  org_key_id           text NOT NULL,
  trust_root           text NOT NULL,          -- org Ed25519 public key, base64url
  recovery_key_id      text NOT NULL,
  recovery_public_key  text NOT NULL,          -- X25519, base64url; the private half exists only as shares
  recovery_threshold   int  NOT NULL CHECK (recovery_threshold >= 2),
  recovery_shares      int  NOT NULL CHECK (recovery_shares >= recovery_threshold),
  created_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id                     uuid PRIMARY KEY,
  email                  text NOT NULL,
  role                   text NOT NULL CHECK (role IN ('viewer', 'key-admin', 'auditor')),
  status                 text NOT NULL CHECK (status IN ('invited', 'unconfirmed', 'active', 'revoked')),
  password_verifier      text,                 -- $coffer-argon2id-hkdf$...: SHA-256 of an HKDF output, never the KEK
  key_version            int,
  public_key             text,                 -- X25519, base64url
  wrapped_private_key    bytea,                -- AES-256-GCM under the password KEK
  certificate_signature  text,                 -- org signature over (id, role, public key)
  failed_signins         int NOT NULL DEFAULT 0,
  locked_until           timestamptz,
  created_at             timestamptz NOT NULL DEFAULT now(),
  confirmed_at           timestamptz
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE invites (
  token_hash  text PRIMARY KEY,               -- SHA-256 of the invite token
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);

CREATE TABLE sessions (
  token_hash           text PRIMARY KEY,       -- SHA-256 of the session token; the token itself never rests here
  id                   uuid NOT NULL UNIQUE,
  user_id              uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  wrapped_key          bytea NOT NULL,         -- user key under HKDF(token, session id)
  created_at           timestamptz NOT NULL,
  last_seen_at         timestamptz NOT NULL,
  idle_expires_at      timestamptz NOT NULL,
  absolute_expires_at  timestamptz NOT NULL
);

CREATE TABLE data_keys (
  id          text PRIMARY KEY,
  public_key  text NOT NULL,                  -- X25519, base64url
  not_before  timestamptz NOT NULL,
  not_after   timestamptz NOT NULL CHECK (not_after > not_before),
  bundle      jsonb NOT NULL,                 -- the signed bundle exactly as signed
  signature   text NOT NULL,                  -- org Ed25519 over the bundle's canonical encoding
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX data_keys_window ON data_keys (not_before, not_after);

-- Private keys wrapped to a recipient: data keys and the org key, to users and to the recovery key.
CREATE TABLE wrapped_keys (
  key_kind        text NOT NULL CHECK (key_kind IN ('data', 'org')),
  key_id          text NOT NULL,
  recipient_kind  text NOT NULL CHECK (recipient_kind IN ('user', 'recovery')),
  recipient_id    text NOT NULL,
  wrapped         bytea NOT NULL,             -- sealed blob v1
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (key_kind, key_id, recipient_id)
);

CREATE TABLE records (
  id            uuid PRIMARY KEY,             -- UUIDv7 from ingest; Nats-Msg-Id on the bus
  type          text NOT NULL CHECK (type IN ('pan', 'ssn', 'secret')),
  data_key_id   text NOT NULL REFERENCES data_keys (id),
  sealed        bytea NOT NULL,               -- sealed blob v1, bound to (id, type, data key id)
  hint          text CHECK (hint ~ '^[0-9]{4}$'),  -- last four digits of a PAN or SSN, never more
  submitted_at  timestamptz NOT NULL,
  stored_at     timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz
);
CREATE INDEX records_type_submitted ON records (type, submitted_at);
CREATE INDEX records_data_key ON records (data_key_id);

-- Bus messages the vault could not store, kept whole with the reason, so nothing is dropped silently.
CREATE TABLE dead_letters (
  id           bigserial PRIMARY KEY,
  received_at  timestamptz NOT NULL DEFAULT now(),
  msg_id       text,
  reason       text NOT NULL,
  payload      bytea NOT NULL
);

-- Append-only, hash-chained: hash = SHA-256(previous hash || canonical event).
CREATE TABLE audit_events (
  seq        bigint PRIMARY KEY,
  at         timestamptz NOT NULL,
  actor      text NOT NULL,
  action     text NOT NULL,
  target     text,
  reason     text,
  outcome    text NOT NULL,
  origin     text,
  details    jsonb,
  prev_hash  bytea NOT NULL,
  hash       bytea NOT NULL
);

GRANT SELECT, INSERT ON org TO coffer_vault;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, invites, sessions, wrapped_keys TO coffer_vault;
GRANT SELECT, INSERT, DELETE ON data_keys, records TO coffer_vault;
GRANT SELECT, INSERT ON dead_letters TO coffer_vault;
GRANT USAGE ON SEQUENCE dead_letters_id_seq TO coffer_vault;
-- The audit log: append and read, never change.
GRANT SELECT, INSERT ON audit_events TO coffer_vault;

-- A redelivered message that failed before is recorded once.
CREATE UNIQUE INDEX dead_letters_msg_id ON dead_letters (msg_id) WHERE msg_id IS NOT NULL;
