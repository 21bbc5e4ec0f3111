-- An export is bound to the session that began it (issue 9, item 4): its pages are served only to
-- that session, for a short time after it began, and only records submitted before it began.
ALTER TABLE exports ADD COLUMN session_id text;
-- How many records the vault served for it: an export never finished is closed in the audit by the
-- vault's janitor with this count.
ALTER TABLE exports ADD COLUMN served integer NOT NULL DEFAULT 0;
