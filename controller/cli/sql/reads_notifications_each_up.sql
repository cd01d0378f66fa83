-- reads_notifications_each.sql with "after": each agent's oldest $8 rows
-- above that id, then the oldest $8 of those, oldest first.
SELECT x.eid, x.j
FROM unnest($1::text[]) AS e(eid)
CROSS JOIN LATERAL (
  SELECT n.id, n.eid, {{notif_json}}::text AS j
  FROM notifications n
  WHERE n.eid = e.eid AND {{notif_where}}
  ORDER BY n.id
  LIMIT $8::bigint) x
ORDER BY x.id
LIMIT $8::bigint
