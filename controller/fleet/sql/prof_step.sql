-- Send run $1's next request: insert the task ($2 op, $3 request; it
-- expires unsent after $6 seconds) and keep the run's state ($4 work; $5
-- the profiles taking part, given when the run starts, with $7 the boot's
-- identity, $8 a factory reset, $9 the node), in one statement.
WITH t AS (INSERT INTO tasks (eid, op, request, batch_id, expires_at)
  VALUES ($1, $2, $3::jsonb, 'profile', now() + $6::bigint * interval '1 second') RETURNING id)
UPDATE profile_runs SET task_id = (SELECT id FROM t), work = $4::jsonb,
  started_at = coalesce(started_at, now()), profiles = coalesce($5::jsonb, profiles),
  boot_key = CASE WHEN $5::jsonb IS NULL THEN boot_key ELSE $7::bigint END,
  factory_reset = CASE WHEN $5::jsonb IS NULL THEN factory_reset ELSE $8::bool END,
  by_node = $9
WHERE eid = $1
RETURNING (SELECT id FROM t)
