-- Audit streaming (issue 16 item 5): how far each SIEM sink has been sent, so that a restarted
-- vault resumes after the last event it delivered, neither skipping nor repeating one. The row
-- is updated in the transaction that holds the streaming lock, after the sink took the batch.
CREATE TABLE audit_stream_positions (
  sink        text PRIMARY KEY CHECK (sink ~ '^[a-z0-9-]{1,32}$'),
  seq         bigint NOT NULL CHECK (seq >= 0),
  updated_at  timestamptz NOT NULL
);
GRANT SELECT, INSERT, UPDATE ON audit_stream_positions TO coffer_vault;
