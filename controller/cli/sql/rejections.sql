-- uspctl rejections: the rows of table rejections (schema version 7),
-- newest first, one JSON object each. $1: a LIKE pattern on the sender
-- (store_glob_to_like), $2: a reason, $3: seconds back from now (on
-- last_at), each NULL for any; $4: the row limit.
SELECT json_build_object('sender', sender, 'reason', reason, 'topic', topic,
  'detail', detail, 'count', count, 'first_at', to_json(first_at) #>> '{}',
  'last_at', to_json(last_at) #>> '{}', 'node', node_id)::text
FROM rejections
WHERE ($1::text IS NULL OR sender LIKE $1::text)
  AND ($2::text IS NULL OR reason = $2::text)
  AND ($3::float8 IS NULL OR last_at >= now() - $3::float8 * interval '1 second')
ORDER BY last_at DESC, sender, reason
LIMIT $4::bigint
