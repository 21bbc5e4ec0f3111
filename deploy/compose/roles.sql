-- Run once by the postgres image when the data directory is created. coffer_owner owns the
-- database and runs the migrations; coffer_vault is the runtime role the migrations grant to.
-- Neither has a password: pg_hba.conf admits them by client certificate only.
CREATE ROLE coffer_owner LOGIN;
CREATE ROLE coffer_vault LOGIN;
CREATE DATABASE coffer OWNER coffer_owner;
