-- `coffer reseal` (issue 15, item 3): a re-sealed record names the digest of its new context's enc
-- (migration 012), as ingest's records do, so a context planted under the new id with the old enc
-- cannot shadow it. Expand-only: a grant the previous vault does not use.
GRANT UPDATE (context_enc_sha256) ON records TO coffer_vault;
