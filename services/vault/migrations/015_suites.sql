-- Suites (issue 15 item 1): the org's configuration, signed by the org key at `coffer init`,
-- names the suite new keys are made in (X-Wing for new organisations). Nullable: an org made
-- before has none and stays X25519. The admin plane checks the signature against the pinned trust
-- root before minting, so a database writer who edits or drops it is refused, not obeyed.
ALTER TABLE org ADD COLUMN config jsonb;
ALTER TABLE org ADD COLUMN config_signature text;

-- An X-Wing record context's encapsulated key is 1120 bytes (X25519: 32). Widening the check is
-- expand-only: a vault of the previous build still writes 32-byte encs and reads its own rows.
ALTER TABLE record_contexts DROP CONSTRAINT record_contexts_enc_check;
ALTER TABLE record_contexts ADD CONSTRAINT record_contexts_enc_check CHECK (octet_length(enc) IN (32, 1120));
