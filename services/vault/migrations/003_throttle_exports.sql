-- Sign-in throttling keyed on the email as typed (lower-cased, hashed), for known and unknown
-- addresses alike: the lockout then tells nothing about which accounts exist. Attempts are counted
-- before the password is checked, in one statement, so parallel guesses cannot outrun the lock.
CREATE TABLE signin_throttle (
  email_hash    text PRIMARY KEY,          -- hex SHA-256 of lower(email)
  attempts      int NOT NULL DEFAULT 0,
  locked_until  timestamptz,
  updated_at    timestamptz NOT NULL
);

-- An export is a server-side object: pages are served only for an export this user began and has
-- not finished, with the filter that was audited at its start.
CREATE TABLE exports (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  filter       jsonb NOT NULL,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz
);

-- The purge job looks up expired records every minute.
CREATE INDEX records_expires_at ON records (expires_at) WHERE expires_at IS NOT NULL;

GRANT SELECT, INSERT, UPDATE, DELETE ON signin_throttle, exports TO coffer_vault;
