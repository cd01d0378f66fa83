-- uspctl notifications of every agent ($1 NULL) or of many agents ($1 the
-- Endpoint IDs), newest first: a walk back along the primary key (or the
-- received_at index, when since / until make that cheaper) that stops at
-- $8 rows. Filters $2..$7: _notif_where.sql.
SELECT n.eid, {{notif_json}}::text
FROM notifications n
WHERE ($1::text[] IS NULL OR n.eid = ANY($1::text[])) AND {{notif_where}}
ORDER BY n.id DESC
LIMIT $8::bigint
