-- fleet_plan's rows become campaign $1's devices (the unique index
-- campaign_devices_one_active stops a device another campaign took since
-- the conflict check).
INSERT INTO campaign_devices (campaign, eid, wave, rank, model, from_version, state, reason,
  finished_at, timeline)
SELECT $1::bigint, eid, wave, rank, model, from_version, state, reason,
  CASE WHEN state = 'skipped' THEN now() END,
  CASE WHEN state = 'skipped' THEN jsonb_build_array(jsonb_build_object('at', now(),
    'state', 'skipped', 'note', 'skipped: ' || reason)) ELSE '[]'::jsonb END
FROM fleet_plan ORDER BY wave, rank, eid
