-- Decoy records (issue 16, item 3). A decoy is an ordinary row of `records`; what makes it one is
-- a tag here: 0x01 || HMAC-SHA256(decoy key, 'coffer-decoy-tag-v1' || record id). The decoy key
-- lives only in the vault process (COFFER_DECOY_KEY_FILE), never in the database, so a database
-- reader sees how many tags exist but not which records they name. No timestamp column: a planting
-- time would point at the records stored then.
CREATE TABLE decoy_tags (
  tag  bytea PRIMARY KEY CHECK (octet_length(tag) = 33 AND get_byte(tag, 0) = 1)
);
GRANT SELECT, INSERT, DELETE ON decoy_tags TO coffer_vault;

-- Two-person rule for large exports (issue 16, item 4a): a request, a second key-admin's decision,
-- and the requester's one use of it within a short time.
CREATE TABLE export_approvals (
  id            uuid PRIMARY KEY,
  requester     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  filter        jsonb NOT NULL,
  reason        text NOT NULL,
  records       integer NOT NULL,
  requested_at  timestamptz NOT NULL,
  decided_by    uuid REFERENCES users (id) ON DELETE SET NULL,
  decision      text CHECK (decision IN ('approved', 'denied')),
  decided_at    timestamptz,
  used_at       timestamptz
);
CREATE INDEX export_approvals_pending ON export_approvals (requested_at) WHERE decision IS NULL;
GRANT SELECT, INSERT, UPDATE ON export_approvals TO coffer_vault;

-- Two-person rule for confirming a key-admin (issue 16, item 4b): a second key-admin compared the
-- fingerprint of exactly this public key.
CREATE TABLE confirm_cosigns (
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  admin_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key  text NOT NULL,
  at          timestamptz NOT NULL,
  PRIMARY KEY (user_id, admin_id)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON confirm_cosigns TO coffer_vault;

-- Break-glass delay (issue 16, item 4c): a key-admin made by `coffer recover` gets their copies of
-- the org key and data keys only at release_at; until then they wait here (wrapped to the new
-- key-admin's key, so no more use to a reader than wrapped_keys) and any key-admin may cancel.
CREATE TABLE recovery_holds (
  user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  release_at  timestamptz NOT NULL,
  copies      jsonb NOT NULL,
  held_at     timestamptz NOT NULL
);
GRANT SELECT, INSERT, DELETE ON recovery_holds TO coffer_vault;
