-- What a plan shows of fleet_plan: the pending devices by model and
-- software version, overall and per wave ($1 waves; $3 the first rank of
-- each wave after the first, as admin_insert_devices cuts them), and the
-- first $2 skipped devices with their reason. The pending rows are read
-- once, grouped by wave, model and version; the skipped ones only when
-- $2 > 0.
WITH g AS MATERIALIZED (SELECT width_bucket(rank, $3::bigint[]) AS wave, model, from_version,
    count(*) AS n
  FROM fleet_plan WHERE state = 'pending' GROUP BY 1, 2, 3),
pm AS (SELECT wave, coalesce(model, '') AS k, sum(n) AS n FROM g GROUP BY 1, 2),
pv AS (SELECT wave, coalesce(from_version, '') AS k, sum(n) AS n FROM g GROUP BY 1, 2)
SELECT json_build_object(
  'by_model', (SELECT coalesce(json_object_agg(k, n ORDER BY k), '{}')
    FROM (SELECT k, sum(n) AS n FROM pm GROUP BY k) x),
  'by_from_version', (SELECT coalesce(json_object_agg(k, n ORDER BY k), '{}')
    FROM (SELECT k, sum(n) AS n FROM pv GROUP BY k) x),
  'per_wave', (SELECT json_agg(json_build_object('wave', w + 1,
      'devices', (SELECT coalesce(sum(n), 0) FROM pm WHERE pm.wave = w),
      'by_model', (SELECT coalesce(json_object_agg(k, n ORDER BY k), '{}') FROM pm
        WHERE pm.wave = w),
      'by_from_version', (SELECT coalesce(json_object_agg(k, n ORDER BY k), '{}') FROM pv
        WHERE pv.wave = w)) ORDER BY w)
    FROM generate_series(0, $1::int - 1) w),
  'skipped_devices', (SELECT coalesce(json_agg(json_build_object('agent', eid, 'reason', reason)
      ORDER BY eid), '[]')
    FROM (SELECT eid, reason FROM fleet_plan WHERE state = 'skipped' ORDER BY eid
      LIMIT $2::int) s))::text
