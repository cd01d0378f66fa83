-- Continuous campaign $1: agents that match its selector ($2, the jsonb
-- fleet_admin stored) and are in no active campaign join its last wave
-- ($3, 0-based), after the campaign's other devices in seeded order ($4:
-- the seed). Agents already at the target version ($5) join as skipped.
-- Walks the agents the selector matches once per join interval.
WITH s AS (SELECT $2::jsonb AS j),
m AS (SELECT a.eid, a.model_name, a.software_version FROM agents a, s
  WHERE (s.j->'eids' IS NULL OR a.eid = ANY(ARRAY(SELECT jsonb_array_elements_text(s.j->'eids'))))
    AND (s.j->>'tag' IS NULL OR a.tags @> ARRAY[s.j->>'tag'])
    AND (s.j->>'model' IS NULL OR a.model_name = s.j->>'model')
    AND (s.j->>'manufacturer' IS NULL OR a.manufacturer = s.j->>'manufacturer')
    AND (s.j->>'software_version' IS NULL OR a.software_version = s.j->>'software_version')
    AND (s.j->>'eid_like' IS NULL OR a.eid LIKE s.j->>'eid_like')
    AND NOT EXISTS (SELECT 1 FROM campaign_devices cd WHERE cd.campaign = $1::bigint
      AND cd.eid = a.eid)
    AND NOT EXISTS (SELECT 1 FROM campaign_devices cd WHERE cd.eid = a.eid
      AND cd.state NOT IN ('succeeded', 'failed', 'timed_out', 'skipped', 'canceled'))
  ORDER BY md5($4 || ':' || a.eid) LIMIT 10000),
i AS (INSERT INTO campaign_devices (campaign, eid, wave, rank, model, from_version, state,
    reason, finished_at, timeline)
  SELECT $1::bigint, m.eid, $3::int,
    coalesce((SELECT max(rank) FROM campaign_devices WHERE campaign = $1::bigint), 0)
      + row_number() OVER (), m.model_name, m.software_version,
    CASE WHEN m.software_version = $5 THEN 'skipped' ELSE 'pending' END,
    CASE WHEN m.software_version = $5 THEN 'already_at_target' END,
    CASE WHEN m.software_version = $5 THEN now() END,
    jsonb_build_array(jsonb_build_object('at', now(), 'note', 'joined the campaign'))
  FROM m ON CONFLICT DO NOTHING RETURNING 1)
SELECT count(*) FROM i
