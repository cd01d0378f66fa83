-- Fill fleet_plan with the agents selector $1 matches now. Excluded models
-- ($4) and versions ($5), and agents already at the target version ($6),
-- are skipped with the reason (rank 0, wave 0). The others are pending,
-- ranked 1..N by md5(seed $2 || ':' || eid); with $3 (stratify) each
-- (model, software version) stratum is spread evenly over the order: a
-- device's place is (its rank in its stratum - 0.5) / the stratum's size,
-- so every stretch of the order, and so every wave, samples every stratum.
INSERT INTO fleet_plan (eid, model, from_version, state, reason, rank)
WITH t AS (SELECT a.eid, a.model_name AS model, a.software_version AS from_version,
    CASE WHEN a.model_name = ANY($4::text[]) THEN 'excluded_model'
      WHEN a.software_version = ANY($5::text[]) THEN 'excluded_version'
      WHEN a.software_version = $6 THEN 'already_at_target' END AS reason,
    md5($2::text || ':' || a.eid) COLLATE "C" AS h
  FROM agents a WHERE {{sel_jsonb}}),
p AS (SELECT t.*, row_number() OVER (PARTITION BY model, from_version ORDER BY h, eid) AS rs,
    count(*) OVER (PARTITION BY model, from_version) AS ns
  FROM t WHERE reason IS NULL)
SELECT eid, model, from_version, 'pending', NULL,
  row_number() OVER (ORDER BY CASE WHEN $3::bool THEN (rs - 0.5) / ns END, h, eid)
FROM p
UNION ALL
SELECT eid, model, from_version, 'skipped', reason, 0 FROM t WHERE reason IS NOT NULL
