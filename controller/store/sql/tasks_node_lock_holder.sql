-- Who holds the lock: pid, application_name, client address, backend_start
-- (the last three NULL when pg_stat_activity hides them from our role).
SELECT l.pid, a.application_name, coalesce(host(a.client_addr), 'local socket'),
  a.backend_start::text FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = {{node_lock_class}}::oid AND l.objid = ({{node_lock_key}})::oid
LIMIT 1
