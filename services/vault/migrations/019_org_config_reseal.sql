-- `coffer reseal` (issue 15, item 3): a re-sealed record names the digest of its new context's enc
-- (migration 012), as ingest's records do, so a context planted under the new id with the old enc
-- cannot shadow it. Expand-only: a grant the previous vault does not use.
GRANT UPDATE (context_enc_sha256) ON records TO coffer_vault;

-- A key-admin moving the org to another suite (issue 15, item 3) stores the next org-signed
-- configuration; the vault checks it against the trust root, which it still cannot change.
GRANT UPDATE (config, config_signature) ON org TO coffer_vault;
