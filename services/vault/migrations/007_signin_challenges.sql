-- Single-use challenges for the password proof: the admin plane signs one with the key derived
-- from the password, so a proof seen on the bus can never be used again.
CREATE TABLE signin_challenges (
  id          uuid PRIMARY KEY,
  nonce       text NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);

GRANT SELECT, INSERT, UPDATE, DELETE ON signin_challenges TO coffer_vault;
