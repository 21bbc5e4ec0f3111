-- The org key's certificate over the recovery public key: new data keys are wrapped to the
-- recovery key only after the admin plane checks it against the trust root, so a database writer
-- cannot swap in a recovery key of their own.
ALTER TABLE org ADD COLUMN recovery_certificate text;

-- recovery.begin deletes expired challenges.
GRANT DELETE ON recovery_challenges TO coffer_vault;
