-- The profile gate opened for agents $1 (text[]): unpark their queued
-- tasks, as the store writer does when an agent becomes ready
-- (wop_unpark.sql says why rows held by others are skipped).
UPDATE tasks SET parked = false WHERE id = ANY(ARRAY(SELECT id FROM tasks
  WHERE eid = ANY($1::text[]) AND state = 'queued' AND parked FOR UPDATE SKIP LOCKED))
