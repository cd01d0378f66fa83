-- Safety net, every SWEEP_POLLS polls: unpark queued tasks whose agent is
-- ready for uspc (a USP agent; $1: require_onboarded; $2: the profile gate
-- is on). The writer unparks them when their agent comes back; this
-- catches what nothing else would: an unpark skipped because another
-- transaction held the row and then rolled back, or tasks
-- a daemon older than schema version 3 released with parked still set.
-- Driven from the parked tasks, not the fleet: the distinct agents of the
-- parked tasks, each probed once in agents_online (an offline agent is not
-- in it, so its probe reads no heap), then the parked tasks of the ready
-- ones. Rows held by another transaction are skipped (the next sweep gets
-- them).
WITH s AS (UPDATE tasks SET parked = false WHERE id = ANY(ARRAY(
  SELECT t.id FROM tasks t
  WHERE t.eid = ANY(ARRAY(SELECT p.eid FROM (SELECT DISTINCT eid FROM tasks
      WHERE state = 'queued' AND parked) p
    WHERE (SELECT (NOT $1::bool OR {{onboarded_since_online}})
        AND (NOT $2::bool OR a.provisioned_at >= a.onboarded_at
          OR NOT EXISTS (SELECT 1 FROM profile_heads WHERE deleted_at IS NULL))
      FROM agents a WHERE a.eid = p.eid AND a.online AND a.protocol = 'usp')))
    AND t.state = 'queued' AND t.parked FOR UPDATE OF t SKIP LOCKED))
  RETURNING id)
SELECT count(*), (SELECT count(pg_notify('uspc_task_new', 'swept'))
  WHERE EXISTS (SELECT 1 FROM s)) FROM s
