-- fleet_plan's rows become campaign $1's devices, a pending row in the
-- wave its rank falls in ($2: the first rank of each wave after the
-- first, as in admin_plan_summary), a skipped one in wave 0 (the unique
-- index campaign_devices_one_active stops a device another campaign took
-- since the conflict check).
INSERT INTO campaign_devices (campaign, eid, wave, rank, model, from_version, state, reason,
  finished_at, timeline)
SELECT $1::bigint, eid, wave, rank, model, from_version, state, reason,
  CASE WHEN state = 'skipped' THEN now() END,
  CASE WHEN state = 'skipped' THEN jsonb_build_array(jsonb_build_object('at', now(),
    'state', 'skipped', 'note', 'skipped: ' || reason)) ELSE '[]'::jsonb END
FROM (SELECT p.*, CASE WHEN p.state = 'pending' THEN width_bucket(p.rank, $2::bigint[])
    ELSE 0 END AS wave FROM fleet_plan p) p
ORDER BY wave, rank, eid
