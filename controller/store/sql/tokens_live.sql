-- The live token named $1 (why a create was refused).
SELECT {{token_json}}::text, coalesce(t.expires_at <= now(), false)
FROM api_tokens t WHERE t.name = $1 AND t.revoked_at IS NULL
