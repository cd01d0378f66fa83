-- Kick, at most $1 each, the ready agents with a profile whose retry
-- (trigger 'retry') or drift check (trigger 'drift') is due and no run
-- waiting or under way; the run's verdict sets the next time.
WITH r AS (SELECT pa.eid, pa.name FROM profile_agents pa
    WHERE pa.retry_at <= now() AND NOT EXISTS (SELECT 1 FROM profile_runs x WHERE x.eid = pa.eid)
      AND EXISTS (SELECT 1 FROM agents a WHERE a.eid = pa.eid AND {{prof_ready}})
    ORDER BY pa.retry_at LIMIT $1),
d AS (SELECT pa.eid, pa.name FROM profile_agents pa
    WHERE pa.drift_at <= now() AND NOT EXISTS (SELECT 1 FROM profile_runs x WHERE x.eid = pa.eid)
      AND EXISTS (SELECT 1 FROM agents a WHERE a.eid = pa.eid AND {{prof_ready}})
    ORDER BY pa.drift_at LIMIT $1),
k AS (INSERT INTO profile_kicks (eid, trigger, name)
  SELECT eid, 'retry', name FROM r UNION ALL SELECT eid, 'drift', name FROM d RETURNING 1)
SELECT count(*) FROM k
