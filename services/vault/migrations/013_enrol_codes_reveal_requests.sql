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

-- A reveal the admin plane asked for carries a request id (issue 9 item 4d): released once, and
-- marked abandoned when the admin plane timed out waiting, so the audit can say the value was
-- released but not delivered, and a late-arriving request is not released after it was given up.
CREATE TABLE reveal_requests (
  request_id  uuid PRIMARY KEY,
  state       text NOT NULL CHECK (state IN ('released', 'abandoned')),
  at          timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE, DELETE ON reveal_requests TO coffer_vault;
