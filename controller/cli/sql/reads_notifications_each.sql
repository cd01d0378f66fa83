-- uspctl notifications of a few agents ($1, at most READS_EACH_MAX), newest
-- first: each agent's newest $8 rows through notifications_eid_id (eid, id)
-- (schema version 8), then the newest $8 of those. Filters $2..$7:
-- _notif_where.sql.
SELECT x.eid, x.j
FROM unnest($1::text[]) AS e(eid)
CROSS JOIN LATERAL (
  SELECT n.id, n.eid, {{notif_json}}::text AS j
  FROM notifications n
  WHERE n.eid = e.eid AND {{notif_where}}
  ORDER BY n.id DESC
  LIMIT $8::bigint) x
ORDER BY x.id DESC
LIMIT $8::bigint
