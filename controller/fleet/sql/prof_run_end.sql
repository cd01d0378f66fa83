-- Run $1 has ended. Asked for again ($2), or cut short by no answer with
-- the agent still ready ($3 seconds of back-off, > 0), it waits again;
-- else it is gone. $4: the agent's profiles converged (the run ended, or
-- gave up): agents.provisioned_at, which the gate (profile_gate) reads.
WITH w AS (UPDATE profile_runs SET started_at = NULL, task_id = NULL, work = NULL,
    profiles = NULL, again = false,
    attempt = CASE WHEN $3::bigint > 0 THEN attempt + 1 ELSE 0 END,
    due_at = now() + greatest($3::bigint, 0) * interval '1 second',
    triggers = CASE WHEN $3::bigint > 0 THEN triggers ELSE ARRAY['again'] END
  WHERE eid = $1 AND ($2::bool OR $3::bigint > 0) RETURNING 1),
d AS (DELETE FROM profile_runs WHERE eid = $1 AND NOT ($2::bool OR $3::bigint > 0) RETURNING 1),
g AS (UPDATE agents SET provisioned_at = now() WHERE eid = $1 AND $4::bool RETURNING 1)
SELECT (SELECT count(*) FROM w), (SELECT count(*) FROM d), (SELECT count(*) FROM g)
