-- uspctl task_list of every agent ($1 NULL) or of many agents ($1 the
-- Endpoint IDs): the ids and agents of the newest $6 tasks (the task
-- objects come from store_query_task_status). A walk back along the
-- primary key, or along tasks_batch with a batch, or a partial index for a
-- state that has one. Filters $2..$5: _task_where.sql.
SELECT t.id, t.eid
FROM tasks t
WHERE ($1::text[] IS NULL OR t.eid = ANY($1::text[])) AND {{task_where}}
ORDER BY t.id DESC
LIMIT $6::bigint
