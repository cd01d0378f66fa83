-- uspctl task_list of a few agents ($1, at most READS_EACH_MAX): each
-- agent's newest $6 tasks through tasks_eid (eid, id), then the newest $6
-- of those. Filters $2..$5: _task_where.sql.
SELECT x.id, x.eid
FROM unnest($1::text[]) AS e(eid)
CROSS JOIN LATERAL (
  SELECT t.id, t.eid
  FROM tasks t
  WHERE t.eid = e.eid AND {{task_where}}
  ORDER BY t.id DESC
  LIMIT $6::bigint) x
ORDER BY x.id DESC
LIMIT $6::bigint
