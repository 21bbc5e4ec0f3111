-- Who vouches for a record's hint. 'ingest': ingest saw the value and took its last four digits.
-- 'client': the value was sealed by the submitter (POST /v1/sealed-records) and ingest never saw
-- it, so the hint is only what the client claimed; staff see it marked as such.
ALTER TABLE records
  ADD COLUMN hint_source text NOT NULL DEFAULT 'ingest' CHECK (hint_source IN ('ingest', 'client'));
