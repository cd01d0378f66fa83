-- reads_notifications.sql with "after": the oldest $8 rows above that id
-- first, a walk forward along the primary key (following a stream, each
-- page starts after the last id of the one before).
SELECT n.eid, {{notif_json}}::text
FROM notifications n
WHERE ($1::text[] IS NULL OR n.eid = ANY($1::text[])) AND {{notif_where}}
ORDER BY n.id
LIMIT $8::bigint
