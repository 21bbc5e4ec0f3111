-- Break-glass challenges: only the hash of the answer, single use, short-lived.
CREATE TABLE recovery_challenges (
  id           uuid PRIMARY KEY,
  answer_hash  text NOT NULL,        -- hex SHA-256 of the 32 random bytes sealed to the recovery key
  expires_at   timestamptz NOT NULL,
  used_at      timestamptz
);

GRANT SELECT, INSERT, UPDATE ON recovery_challenges TO coffer_vault;
