-- Continuous campaign $2: agents that match its selector ($1, the jsonb
-- fleet_admin stored) and are in no active campaign join its last wave
-- ($3, 0-based), after the campaign's other devices, in seeded order ($4:
-- the seed). Agents already at the target version ($5) or excluded by
-- model ($6) or version ($7) join as skipped, with the reason. At most
-- 10,000 per join; walks the agents the selector matches once per join
-- interval.
WITH m AS (SELECT a.eid, a.model_name, a.software_version,
    CASE WHEN a.model_name = ANY($6::text[]) THEN 'excluded_model'
      WHEN a.software_version = ANY($7::text[]) THEN 'excluded_version'
      WHEN a.software_version = $5 THEN 'already_at_target' END AS skip
  FROM agents a
  WHERE {{sel_jsonb}}
    AND NOT EXISTS (SELECT 1 FROM campaign_devices cd WHERE cd.campaign = $2::bigint
      AND cd.eid = a.eid)
    AND NOT EXISTS (SELECT 1 FROM campaign_devices cd WHERE cd.eid = a.eid
      AND cd.state NOT IN ('succeeded', 'failed', 'timed_out', 'skipped', 'canceled'))
  ORDER BY md5($4 || ':' || a.eid) LIMIT 10000),
i AS (INSERT INTO campaign_devices (campaign, eid, wave, rank, model, from_version, state,
    reason, finished_at, timeline)
  SELECT $2::bigint, m.eid, $3::int,
    coalesce((SELECT max(rank) FROM campaign_devices WHERE campaign = $2::bigint), 0)
      + row_number() OVER (ORDER BY md5($4 || ':' || m.eid)), m.model_name,
    m.software_version, CASE WHEN m.skip IS NULL THEN 'pending' ELSE 'skipped' END, m.skip,
    CASE WHEN m.skip IS NOT NULL THEN now() END,
    jsonb_build_array(jsonb_build_object('at', now(), 'note',
      'joined the campaign' || coalesce(' (skipped: ' || m.skip || ')', '')))
  FROM m ON CONFLICT DO NOTHING RETURNING state)
SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'skipped')
FROM i
