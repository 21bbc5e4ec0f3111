-- Authenticated vault replies (issue 9, item 2): the org key's certificate for each reply key a
-- vault holds (the key itself lives in a file on the vault's host, never here). Public data: a
-- writer who plants a row gains nothing, a certificate verifies only under the trust root.
CREATE TABLE vault_reply_keys (
  public_key    text PRIMARY KEY CHECK (public_key ~ '^[A-Za-z0-9_-]{43}$'),
  certificate   text NOT NULL CHECK (certificate ~ '^[A-Za-z0-9_-]{86}$'),
  certified_at  timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT ON vault_reply_keys TO coffer_vault;

-- Forged record contexts (review finding): the first context row stored for an id wins in
-- record_contexts, so a batch carrying a known context id with a wrong enc, published first, made
-- every genuine record of that context unopenable. Contexts are now also kept by (id, SHA-256 of
-- enc), and each record names the digest of the enc it was sealed under, so a conflicting context
-- never displaces the genuine one. record_contexts stays as it was for records stored before
-- (context_enc_sha256 NULL) and for the previous vault, which still reads and writes it.
CREATE TABLE record_context_encs (
  context_id   uuid NOT NULL,
  enc_sha256   bytea NOT NULL CHECK (octet_length(enc_sha256) = 32),
  data_key_id  text NOT NULL REFERENCES data_keys (id) ON DELETE CASCADE,
  enc          bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (context_id, enc_sha256)
);
CREATE INDEX record_context_encs_data_key ON record_context_encs (data_key_id);
ALTER TABLE records ADD COLUMN context_enc_sha256 bytea CHECK (octet_length(context_enc_sha256) = 32);

GRANT SELECT, INSERT, DELETE ON record_context_encs TO coffer_vault;
