-- First TOTP enrolment of a confirmed account needs a one-time code a key-admin issued (issue 9,
-- item 3): the password alone no longer enrols an authenticator on an account that holds
-- authority. Only the SHA-256 of the code is stored (the code is 100 random bits); one per user;
-- it is deleted when used, and refused after expires_at.
CREATE TABLE totp_enrol_codes (
  user_id     uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  code_hash   bytea NOT NULL,
  issued_by   uuid NOT NULL,
  expires_at  timestamptz NOT NULL
);

GRANT SELECT, INSERT, UPDATE, DELETE ON totp_enrol_codes TO coffer_vault;

-- Whether the pending secret was offered with such a code (so the enrolment it leads to is allowed).
-- Expand-only: a vault that does not know this column leaves it false.
ALTER TABLE users ADD COLUMN totp_pending_authorised boolean NOT NULL DEFAULT false;
