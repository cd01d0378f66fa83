-- store_token_check: the live, unexpired token whose SHA-256 is $1 (hex),
-- through the unique index on hash; its last_used_at moves to now() when
-- it is older than a minute, in the same statement. The condition is on
-- the row being updated (a), so of two checks racing within the minute
-- the second one re-reads the first's row after its commit and writes
-- nothing.
WITH t AS (
  SELECT id, name, role FROM api_tokens
  WHERE hash = decode($1, 'hex') AND revoked_at IS NULL
    AND (expires_at IS NULL OR expires_at > now())
), u AS (
  UPDATE api_tokens a SET last_used_at = now() FROM t
  WHERE a.id = t.id
    AND (a.last_used_at IS NULL OR a.last_used_at < now() - interval '1 minute')
)
SELECT id, name, role FROM t
