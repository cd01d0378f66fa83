WITH e AS (UPDATE tasks SET state = 'expired', finished_at = now(),
  error_message = 'expired before it could be sent (agent offline or not onboarded)'
  WHERE id = ANY($1::bigint[]) AND state = 'queued' AND expires_at <= now()
  RETURNING id),
n AS (SELECT pg_notify('uspc_task_done', string_agg(id::text, ',')) FROM
  (SELECT id, (row_number() OVER ()) / 300 AS grp FROM e) x GROUP BY grp)
SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM n)
