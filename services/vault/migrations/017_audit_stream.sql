-- Audit streaming (issue 16 item 5): how far each SIEM sink has been sent, so that a restarted
-- vault resumes after the last event it delivered, neither skipping nor repeating one. One vault
-- replica at a time holds a sink's lease (holder, lease_until) and streams it over one connection,
-- so the receiver gets events in order; another replica takes over when the lease is released or
-- lapses. The row is updated after the sink took a batch, in the transaction that locks it.
CREATE TABLE audit_stream_positions (
  sink         text PRIMARY KEY CHECK (sink ~ '^[a-z0-9-]{1,32}$'),
  seq          bigint NOT NULL CHECK (seq >= 0),
  updated_at   timestamptz NOT NULL,
  holder       text,
  lease_until  timestamptz
);
GRANT SELECT, INSERT, UPDATE ON audit_stream_positions TO coffer_vault;
