-- Prefixes end with '.', so they select whole objects.
DELETE FROM snapshot_objects WHERE eid = $1 AND obj LIKE $2 AND updated_at <= ('epoch'::timestamptz + ($3::bigint) * interval '1 microsecond')
