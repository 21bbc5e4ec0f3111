-- The vault runs as coffer_vault, a role with no DDL rights; migrations run as the database
-- owner. In production create coffer_vault (with a password) before migrating; for local and
-- test clusters this creates it when missing.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'coffer_vault') THEN
    CREATE ROLE coffer_vault LOGIN;
  END IF;
EXCEPTION
  -- Another migration run (another test database) created it at the same moment.
  WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;

REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO coffer_vault;
