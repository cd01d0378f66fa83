-- Fill fleet_plan with the agents selector $1 matches now. Excluded models
-- ($4) and versions ($5), and agents already at the target version ($6),
-- are skipped with the reason (rank 0). The others are pending, ranked
-- 1..N by md5(seed $2 || ':' || eid); with $3 (stratify) each (model,
-- software version) stratum is spread evenly over the order: a device's
-- place is (its rank in its stratum - 0.5) / the stratum's size, so every
-- stretch of the order, and so every wave, samples every stratum. The
-- place is a float8 of two exact integers, (2 rank - 1) / (2 size):
-- devices of equal places compare equal and are ordered by hash and eid.
-- The pending devices take one pass over the agents and two sorts (the
-- strata, in byte order as only their grouping matters, then the order);
-- the skipped ones a second pass without a sort. The waves are cut where
-- the rows are read (admin_plan_summary, admin_insert_devices), once the
-- number of pending devices is known.
INSERT INTO fleet_plan (eid, model, from_version, state, reason, rank)
SELECT p.eid, p.model, p.from_version, 'pending', NULL,
  row_number() OVER (ORDER BY CASE WHEN $3::bool THEN p.place END, p.h, p.eid)
FROM (SELECT t.*, (2 * row_number() OVER s - 1)::float8 / (2 * count(*) OVER s) AS place
  FROM (SELECT a.eid, a.model_name AS model, a.software_version AS from_version,
      md5($2::text || ':' || a.eid) COLLATE "C" AS h
    FROM agents a WHERE {{sel_jsonb}} AND {{plan_reason}} IS NULL) t
  WINDOW s AS (PARTITION BY t.model COLLATE "C", t.from_version COLLATE "C"
    ORDER BY t.h, t.eid ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) p
UNION ALL
SELECT a.eid, a.model_name, a.software_version, 'skipped', {{plan_reason}}, 0
FROM agents a WHERE {{sel_jsonb}} AND {{plan_reason}} IS NOT NULL
