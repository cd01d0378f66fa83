-- Safety net, every SWEEP_POLLS polls: unpark queued tasks whose agent is
-- ready ($1: require_onboarded; $2: the profile gate is on). The writer unparks them when their agent
-- comes back; this catches what nothing else would: an unpark skipped
-- because another transaction held the row and then rolled back, or tasks
-- a daemon older than schema version 3 released with parked still set.
-- Reached from the ready agents through tasks_queued_eid; rows held by
-- another transaction are skipped (the next sweep gets them).
WITH s AS (UPDATE tasks SET parked = false WHERE id = ANY(ARRAY(
  SELECT t.id FROM agents a JOIN tasks t ON t.eid = a.eid
  WHERE a.online AND (NOT $1::bool OR {{onboarded_since_online}})
    AND (NOT $2::bool OR a.provisioned_at >= a.onboarded_at
      OR NOT EXISTS (SELECT 1 FROM profile_heads WHERE deleted_at IS NULL))
    AND t.state = 'queued' AND t.parked FOR UPDATE OF t SKIP LOCKED))
  RETURNING id)
SELECT count(*), (SELECT count(pg_notify('uspc_task_new', 'swept'))
  WHERE EXISTS (SELECT 1 FROM s)) FROM s
