-- An export is bound to the session that began it (issue 9, item 4): its pages are served only to
-- that session, for a short time after it began, and only records submitted before it began.
ALTER TABLE exports ADD COLUMN session_id text;
