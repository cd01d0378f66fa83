WITH c AS (UPDATE tasks SET state = 'canceled', finished_at = now(),
  error_message = 'canceled by operator'
  WHERE state = 'queued' AND (($1::bigint[] IS NOT NULL AND id = ANY($1::bigint[]))
    OR ($1::bigint[] IS NULL AND batch_id = $2)) RETURNING id),
n AS (SELECT pg_notify('uspc_task_done', string_agg(id::text, ',')) FROM
  (SELECT id, (row_number() OVER ()) / 300 AS grp FROM c) x GROUP BY grp)
SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM n)
