SELECT id, state, result::text, error_code, error_message,
  to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
FROM tasks WHERE id = ANY($1::bigint[])
  AND ($2::bool IS FALSE OR state IN ('done', 'failed', 'expired', 'canceled', 'unknown'))
ORDER BY id
