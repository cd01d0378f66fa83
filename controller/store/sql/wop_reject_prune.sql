-- After a batch's rejections: the table keeps at most $1 rows, the newest
-- by last_at, and none whose last_at is older than $2 seconds (NULL: no
-- age limit). Runs in the batch's transaction, so the rows just written
-- count. Both walks follow rejections_last_at; the table holds about $1
-- rows plus a flush's worth, so this stays cheap at once a second.
DELETE FROM rejections WHERE (sender, reason) IN (
  (SELECT sender, reason FROM rejections
    ORDER BY last_at DESC OFFSET $1::bigint)
  UNION
  (SELECT sender, reason FROM rejections
    WHERE last_at < now() - $2::bigint * interval '1 second'))
