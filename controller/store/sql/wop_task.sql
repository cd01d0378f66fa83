-- Task results land only on tasks this node holds in 'sent' ($9); finished
-- ids are announced in groups of 300 (well under NOTIFY's 8000-byte
-- payload). unknown wins over failed.
WITH u AS (SELECT DISTINCT ON (id) * FROM unnest($1::bigint[], $2::bool[], $3::text[],
  $4::jsonb[], $5::bigint[], $6::text[], $7::bigint[], $8::bool[])
  WITH ORDINALITY AS u(id, failed, msg_id, result, code, msg, us, unknown, ord)
  ORDER BY id, ord),
t AS (UPDATE tasks t SET state = CASE WHEN u.unknown THEN 'unknown'
  WHEN u.failed THEN 'failed' ELSE 'done' END,
  msg_id = coalesce(u.msg_id, t.msg_id), result = u.result, error_code = u.code,
  error_message = u.msg, finished_at = ('epoch'::timestamptz + (u.us) * interval '1 microsecond')
FROM u
  WHERE t.id = u.id AND t.state = 'sent' AND t.claimed_by = $9 RETURNING t.id),
n AS (SELECT pg_notify('uspc_task_done', string_agg(id::text, ',')) FROM
  (SELECT id, (row_number() OVER ()) / 300 AS grp FROM t) x GROUP BY grp)
SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM t), (SELECT count(*) FROM n)
