-- Campaign $1's progress as one JSON object, in one walk over its devices
-- (grouping sets); fleet_admin_status shapes it for the operator. $2: the
-- test clock offset in seconds. "clock" is [local day of week (0 =
-- Monday), seconds since local midnight] in the window's time zone.
WITH c AS (SELECT * FROM campaigns WHERE id = $1::bigint),
g AS (SELECT state, wave, model, from_version, reason, fail_class,
    GROUPING(wave, model, from_version, reason, fail_class) AS gs, count(*) AS n,
    count(*) FILTER (WHERE started_at >= now() - interval '60 seconds') AS starts,
    count(*) FILTER (WHERE state = 'succeeded'
      AND finished_at >= now() - interval '60 seconds') AS succ
  FROM campaign_devices WHERE campaign = $1::bigint
  GROUP BY GROUPING SETS ((state), (wave, state), (model, state), (from_version, state),
    (state, reason, fail_class)))
SELECT json_build_object('campaign', c.id, 'name', c.name, 'state', c.state,
  'reason', c.reason, 'settled', c.settled, 'wave', c.wave + 1, 'waves', c.waves,
  'targets', c.targets, 'seed', c.seed, 'created_at', c.created_at,
  'finished_at', c.finished_at, 'spec', c.spec,
  'consecutive_image', c.consecutive_image, 'consecutive_infra', c.consecutive_infra,
  'base_finished', c.base_finished, 'base_image', c.base_image, 'base_infra', c.base_infra,
  'clock', CASE WHEN c.spec ? 'window' THEN (SELECT json_build_array(
      extract(isodow FROM t)::int - 1, extract(epoch FROM t::time)::int)
    FROM (SELECT (now() + $2::bigint * interval '1 second')
      AT TIME ZONE (c.spec -> 'window' ->> 'timezone') AS t) x) END,
  'counts', (SELECT coalesce(json_object_agg(state, n), '{}') FROM g WHERE gs = 31),
  'per_wave', (SELECT coalesce(json_object_agg(wave, s), '{}')
    FROM (SELECT wave, json_object_agg(state, n) AS s FROM g WHERE gs = 15 GROUP BY wave) x),
  'by_model', (SELECT coalesce(json_object_agg(k, s ORDER BY k), '{}')
    FROM (SELECT coalesce(model, '') AS k, json_object_agg(state, n ORDER BY state) AS s
      FROM g WHERE gs = 23 GROUP BY model) x),
  'by_from_version', (SELECT coalesce(json_object_agg(k, s ORDER BY k), '{}')
    FROM (SELECT coalesce(from_version, '') AS k, json_object_agg(state, n ORDER BY state) AS s
      FROM g WHERE gs = 27 GROUP BY from_version) x),
  'failures', (SELECT coalesce(json_object_agg(k, n ORDER BY k), '{}')
    FROM (SELECT coalesce(reason, '') AS k, sum(n) AS n FROM g
      WHERE gs = 28 AND state IN ('failed', 'timed_out') GROUP BY 1) x),
  'class_failed', (SELECT json_build_object(
      'image', coalesce(sum(n) FILTER (WHERE fail_class = 'image'), 0),
      'infra', coalesce(sum(n) FILTER (WHERE fail_class = 'infra'), 0))
    FROM g WHERE gs = 28 AND state IN ('failed', 'timed_out')),
  'starts_per_min', (SELECT coalesce(sum(starts), 0) FROM g WHERE gs = 31),
  'successes_per_min', (SELECT coalesce(sum(succ), 0) FROM g WHERE gs = 31),
  'top_faults', (SELECT coalesce(json_agg(json_build_object('detail', detail, 'count', n)
      ORDER BY n DESC, detail), '[]')
    FROM (SELECT detail, count(*) AS n FROM campaign_devices
      WHERE campaign = $1::bigint AND state IN ('failed', 'timed_out') AND detail IS NOT NULL
      GROUP BY detail ORDER BY 2 DESC, 1 LIMIT 5) x),
  'recent_events', (SELECT coalesce(json_agg(json_build_object('at', e.at, 'actor', e.actor,
      'kind', e.kind, 'message', e.message) ORDER BY e.id), '[]')
    FROM (SELECT * FROM campaign_events WHERE campaign = $1::bigint
      ORDER BY id DESC LIMIT 10) e))::text
FROM c
