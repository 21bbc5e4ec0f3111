-- Issue 15, item 2: revocations in a form the database cannot roll back unnoticed. Each row is one
-- version of the revocation list, signed by the org key; the counter only grows. The admin plane
-- checks the newest against the pinned trust root and the counter it remembers outside the
-- database before it wraps any key to anyone.
CREATE TABLE revocation_lists (
  counter     integer PRIMARY KEY CHECK (counter >= 1),
  list        jsonb NOT NULL,                 -- the signed list exactly as signed
  signature   text NOT NULL,                  -- org Ed25519 over the list's canonical encoding (v1)
  stored_at   timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT ON revocation_lists TO coffer_vault;

-- Issue 15, item 1: a data key superseded by a rotation (on revocation or reset) before its window
-- ended. Its records stay readable; new records go to the key that replaced it.
ALTER TABLE data_keys ADD COLUMN retired_at timestamptz;
GRANT UPDATE (retired_at) ON data_keys TO coffer_vault;

-- Issue 15, item 3: `coffer reseal` moves records of chosen data keys to the current key. A run is
-- resumable: what is left is simply the records still sealed to its old keys.
CREATE TABLE reseal_runs (
  id           uuid PRIMARY KEY,
  from_keys    text[] NOT NULL,
  started_by   text NOT NULL,
  started_at   timestamptz NOT NULL,
  moved        integer NOT NULL DEFAULT 0,
  finished_at  timestamptz
);
GRANT SELECT, INSERT, UPDATE ON reseal_runs TO coffer_vault;
GRANT UPDATE (data_key_id, sealed, context_id) ON records TO coffer_vault;
