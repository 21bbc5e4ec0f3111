-- Record contexts (sealed blob v2): ingest seals many records under one HPKE context, and the
-- context's encapsulated key is stored once here instead of in every record. Records of version 1
-- keep context_id NULL and their enc inside the blob. A context goes with its data key (cascade):
-- its enc opens nothing without the data key's private half, which purge destroys first.
CREATE TABLE record_contexts (
  id           uuid PRIMARY KEY,
  data_key_id  text NOT NULL REFERENCES data_keys (id) ON DELETE CASCADE,
  enc          bytea NOT NULL CHECK (octet_length(enc) = 32),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX record_contexts_data_key ON record_contexts (data_key_id);

ALTER TABLE records ADD COLUMN context_id uuid REFERENCES record_contexts (id);
CREATE INDEX records_context ON records (context_id) WHERE context_id IS NOT NULL;

GRANT SELECT, INSERT, DELETE ON record_contexts TO coffer_vault;
