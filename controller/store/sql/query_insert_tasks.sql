WITH u AS (SELECT nextval('tasks_id_seq') AS id, eid, ord
  FROM unnest($1::text[]) WITH ORDINALITY AS u(eid, ord)),
i AS (INSERT INTO tasks (id, eid, op, request, batch_id, expires_at, not_before)
  SELECT id, eid, $2, $3::jsonb, $4,
    CASE WHEN $5::bigint > 0 THEN now() + $5::bigint * interval '1 millisecond' END,
    now() + $6::bigint * interval '1 millisecond' FROM u RETURNING 1),
n AS (SELECT pg_notify('uspc_task_new', (SELECT count(*) FROM i)::text))
SELECT u.id, (SELECT count(*) FROM n) FROM u ORDER BY u.ord
