-- The live profiles whose scope walk is due: a version it has not walked,
-- or a walk older than $1 seconds (agents may have changed tags, models or
-- snapshot values). With each, what the walk needs.
SELECT h.name, h.version, (p.definition -> 'triggers')::text
FROM profile_heads h JOIN profiles p ON p.name = h.name AND p.version = h.version
WHERE h.deleted_at IS NULL
  AND (h.scoped_version <> h.version OR h.scoped_at IS NULL
    OR h.scoped_at < now() - $1::bigint * interval '1 second')
ORDER BY h.name
