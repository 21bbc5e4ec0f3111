-- TOTP, the second factor. The secret is sealed (HPKE, coffer/totp/v1) to the user's own X25519
-- key, so a dump of this table does not yield it: only the admin plane, holding the user's key
-- for one request (password at sign-in, session during enrolment), opens it.
ALTER TABLE users
  ADD COLUMN totp_sealed     bytea,    -- the enrolled secret, sealed to the user's key
  ADD COLUMN totp_pending    bytea,    -- a secret offered for enrolment, not yet confirmed by a code
  ADD COLUMN totp_last_step  bigint;   -- the last accepted time step: each code works once

-- Whether the session was opened with a TOTP code; reveal and export may require it.
ALTER TABLE sessions ADD COLUMN mfa boolean NOT NULL DEFAULT false;
