-- Walk at most $3 pending devices of campaign $1 in waves up to $2, in
-- wave and seeded order (campaign_devices_queue), skipping those in
-- back-off. Those whose agent is not ready are parked, so no later walk
-- reads them until the store writer unparks them when their agent has
-- onboarded (wop_unpark_campaigns.sql) — parked exactly as tasks are
-- (tasks_claim.sql says why locking the agent's row first makes it safe).
-- Devices whose agent row is gone are parked too. Returns the ready ones.
-- A TR-069 device is always ready: its tasks wait for its next session,
-- or a connection request wakes it (uspc-acs); it is never parked.
WITH w AS (SELECT cd.id, cd.eid, cd.attempt, cd.wave, cd.retry_base, coalesce((SELECT
    a.protocol = 'cwmp' OR (a.online AND a.onboarded_at >= coalesce(a.online_since, '-infinity'))
    FROM agents a WHERE a.eid = cd.eid), false) AS ready,
  coalesce((SELECT a.protocol = 'cwmp' FROM agents a WHERE a.eid = cd.eid), false) AS cwmp
  FROM campaign_devices cd
  WHERE cd.campaign = $1 AND cd.state = 'pending' AND NOT cd.parked AND cd.wave <= $2
    AND (cd.due_at IS NULL OR cd.due_at <= now())
  ORDER BY cd.wave, cd.rank LIMIT $3 FOR UPDATE OF cd SKIP LOCKED),
l AS (SELECT a.eid FROM agents a WHERE a.eid = ANY(ARRAY(SELECT eid FROM w WHERE NOT ready))
  AND NOT coalesce(a.online AND a.onboarded_at >= coalesce(a.online_since, '-infinity'), false)
  FOR SHARE OF a SKIP LOCKED),
p AS (UPDATE campaign_devices cd SET parked = true
  WHERE cd.id = ANY(ARRAY(SELECT id FROM w WHERE NOT ready))
    AND (cd.eid = ANY(ARRAY(SELECT eid FROM l))
      OR NOT EXISTS (SELECT 1 FROM agents a WHERE a.eid = cd.eid)) RETURNING cd.id)
SELECT w.id, w.eid, w.attempt, w.wave, (SELECT count(*) FROM p), w.retry_base, w.cwmp
FROM w WHERE w.ready
UNION ALL SELECT NULL, NULL, NULL, NULL, (SELECT count(*) FROM p), NULL, NULL
