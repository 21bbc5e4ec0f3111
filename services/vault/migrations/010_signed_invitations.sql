-- The invitation a key-admin signed with the org key (issue 9, item 1): who was invited and for
-- which role. At confirmation the admin plane certifies and wraps only for this role, so a
-- database writer who flips `users.role` gets nothing. Kept through a password reset.
ALTER TABLE users ADD COLUMN invitation jsonb, ADD COLUMN invitation_signature text;
