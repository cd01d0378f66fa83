-- store_token_create: $1 name, $2 role, $3 SHA-256 (hex), $4 prefix,
-- $5 created_by, $6 seconds until it expires (0: never). No row when a
-- live token has the name (the partial unique index api_tokens_live_name).
INSERT INTO api_tokens AS t (name, role, hash, prefix, created_by, expires_at)
VALUES ($1, $2, decode($3, 'hex'), $4, $5,
  CASE WHEN $6::bigint > 0 THEN now() + $6::bigint * interval '1 second' END)
ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING
RETURNING {{token_json}}::text
