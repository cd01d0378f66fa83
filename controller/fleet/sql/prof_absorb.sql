-- Merge at most $1 kicks (oldest first) into profile_runs: one run per
-- agent; triggers and names accumulate (a kick for every profile makes the
-- run cover every profile); a kick for an agent whose run is under way
-- asks for one more run after it ("again"); a run waiting out a back-off
-- is due at once. Returns how many kicks.
WITH k AS (DELETE FROM profile_kicks WHERE id = ANY(ARRAY(SELECT id FROM profile_kicks
    ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED))
  RETURNING eid, trigger, name, force_write_only, reset_contested),
g AS (SELECT eid, array_agg(DISTINCT trigger ORDER BY trigger) AS triggers,
    CASE WHEN bool_or(name IS NULL) THEN NULL
      ELSE array_agg(DISTINCT name ORDER BY name) END AS names,
    bool_or(force_write_only) AS fwo, bool_or(reset_contested) AS rc
  FROM k GROUP BY eid),
r AS (INSERT INTO profile_runs AS r (eid, triggers, names, force_write_only, reset_contested)
  SELECT eid, triggers, names, fwo, rc FROM g ORDER BY eid
  ON CONFLICT (eid) DO UPDATE SET
    triggers = ARRAY(SELECT DISTINCT t FROM unnest(r.triggers || excluded.triggers) t ORDER BY t),
    names = CASE WHEN r.names IS NULL OR excluded.names IS NULL THEN NULL
      ELSE ARRAY(SELECT DISTINCT n FROM unnest(r.names || excluded.names) n ORDER BY n) END,
    force_write_only = r.force_write_only OR excluded.force_write_only,
    reset_contested = r.reset_contested OR excluded.reset_contested,
    again = r.again OR r.started_at IS NOT NULL,
    due_at = CASE WHEN r.started_at IS NULL THEN least(r.due_at, now()) ELSE r.due_at END
  RETURNING 1)
SELECT (SELECT count(*) FROM k), (SELECT count(*) FROM r)
