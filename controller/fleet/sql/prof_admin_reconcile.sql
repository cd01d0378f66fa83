-- profile_reconcile of $1 over agents $2 (text[], NULL: all its agents):
-- kick each agent in the profile's scope now (trigger 'demand'; $3 force
-- write-only values, $4 forget contested paths). Agents in scope but
-- without a row yet get one. Returns the kicks and how many are ready.
WITH p AS (SELECT pv.selector, pv.version FROM profile_heads h JOIN profiles pv
    ON pv.name = h.name AND pv.version = h.version WHERE h.name = $1 AND h.deleted_at IS NULL),
m AS (SELECT a.eid, {{prof_ready}} AS ready FROM agents a, p WHERE {{prof_match}}
    AND ($2::text[] IS NULL OR a.eid = ANY($2::text[]))),
r AS (INSERT INTO profile_agents (name, eid, version, state)
  SELECT $1, m.eid, (SELECT version FROM p), 'pending' FROM m ORDER BY m.eid
  ON CONFLICT (name, eid) DO NOTHING RETURNING 1),
k AS (INSERT INTO profile_kicks (eid, trigger, name, force_write_only, reset_contested)
  SELECT eid, 'demand', $1, $3::bool, $4::bool FROM m RETURNING 1)
SELECT (SELECT count(*) FROM k), (SELECT count(*) FROM m WHERE ready),
  EXISTS (SELECT 1 FROM p), pg_notify('uspc_profile', 'reconcile')
