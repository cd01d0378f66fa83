-- store_token_revoke: the live token with id $1, or (when $1 is NULL) the
-- live token named $2.
UPDATE api_tokens t SET revoked_at = now()
WHERE t.revoked_at IS NULL
  AND (($1::bigint IS NOT NULL AND t.id = $1::bigint)
    OR ($1::bigint IS NULL AND t.name = $2::text))
RETURNING {{token_json}}::text
