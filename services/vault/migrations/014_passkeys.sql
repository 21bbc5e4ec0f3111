-- Passkeys (issue 16 item 1): WebAuthn credentials of staff. The vault verifies every
-- registration and assertion against the stored public key; where the authenticator offers PRF,
-- wrapped_key is the user key under a KEK only that authenticator's PRF output derives, bound to
-- the user, the key version and the credential. Without the authenticator it opens nothing.
CREATE TABLE passkeys (
  credential_id  text PRIMARY KEY,                -- base64url, as WebAuthn names it
  user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  public_key     bytea NOT NULL,                  -- COSE key
  counter        bigint NOT NULL DEFAULT 0,
  transports     text[] NOT NULL DEFAULT '{}',
  name           text NOT NULL,
  wrapped_key    bytea,                           -- null: MFA only, no unlock
  key_version    integer,
  created_at     timestamptz NOT NULL,
  last_used_at   timestamptz
);
CREATE INDEX passkeys_user ON passkeys (user_id);

-- Single-use WebAuthn challenges: `register` ones belong to a user's session, `signin` ones to no
-- one until an assertion over them arrives.
CREATE TABLE passkey_challenges (
  id          uuid PRIMARY KEY,
  purpose     text NOT NULL CHECK (purpose IN ('register', 'signin')),
  user_id     uuid REFERENCES users (id) ON DELETE CASCADE,
  nonce       text NOT NULL,
  expires_at  timestamptz NOT NULL,
  used_at     timestamptz
);

-- A revoked user's passkeys go with their keys, and a new key version (a reset) leaves no wrap
-- of the old key behind: done by the database so that no path that revokes or resets can forget.
CREATE FUNCTION passkeys_follow_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status = 'revoked' OR NEW.key_version IS DISTINCT FROM OLD.key_version THEN
    DELETE FROM passkeys WHERE user_id = NEW.id;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER passkeys_follow_user AFTER UPDATE OF status, key_version ON users
  FOR EACH ROW EXECUTE FUNCTION passkeys_follow_user();

GRANT SELECT, INSERT, UPDATE, DELETE ON passkeys, passkey_challenges TO coffer_vault;

-- How a session's second factor was given: 'totp', 'passkey', or null (none). A deployment may
-- require a passkey session for key-admin operations (COFFER_REQUIRE_PASSKEY_FOR_KEY_ADMINS).
-- Expand-only: the previous vault neither writes nor reads it.
ALTER TABLE sessions ADD COLUMN mfa_method text CHECK (mfa_method IN ('totp', 'passkey'));
