-- The scope walk of profile $1 at its version $2, under the head's row
-- lock (SKIP LOCKED: one engine walks it). Agents its selector matches get
-- a 'pending' row when they have none, were out of scope, or hold another
-- version; rows of agents it no longer matches become 'out_of_scope'
-- (values stay as they are on the agent). Ready agents whose row became
-- pending are kicked: trigger 'scope' for a new row when $3, 'version' for
-- a changed version when $4 — not those with a run waiting (it applies
-- every profile in scope when it starts) or under way with this version
-- (a run under way without it is asked for again). At most $5 rows change per walk; a walk that
-- hit the limit leaves the head unwalked, so the next pass goes on.
WITH h AS (SELECT name FROM profile_heads WHERE name = $1 AND version = $2
    AND deleted_at IS NULL FOR UPDATE SKIP LOCKED),
p AS (SELECT pv.selector FROM profiles pv JOIN h ON h.name = pv.name WHERE pv.version = $2),
m AS (SELECT a.eid, {{prof_ready}} AS ready FROM agents a, p WHERE {{prof_match}}),
c AS (SELECT m.eid, m.ready, pa.eid IS NULL AS fresh FROM m
  LEFT JOIN profile_agents pa ON pa.name = $1 AND pa.eid = m.eid
  WHERE pa.eid IS NULL OR pa.state = 'out_of_scope'
    OR (pa.version <> $2 AND pa.state <> 'pending')
  LIMIT $5),
i AS (INSERT INTO profile_agents AS pa (name, eid, version, state)
  SELECT $1, c.eid, $2, 'pending' FROM c ORDER BY c.eid
  ON CONFLICT (name, eid) DO UPDATE SET state = 'pending', version = $2, retry_at = NULL,
    attempt = 0, updated_at = now()
  RETURNING pa.eid),
o AS (UPDATE profile_agents pa SET state = 'out_of_scope', retry_at = NULL, drift_at = NULL,
    updated_at = now()
  WHERE pa.name = $1 AND pa.state <> 'out_of_scope' AND EXISTS (SELECT 1 FROM h)
    AND NOT EXISTS (SELECT 1 FROM m WHERE m.eid = pa.eid) RETURNING pa.eid),
k AS (INSERT INTO profile_kicks (eid, trigger, name)
  SELECT c.eid, CASE WHEN c.fresh THEN 'scope' ELSE 'version' END, $1 FROM c
  WHERE c.ready AND ((c.fresh AND $3::bool) OR (NOT c.fresh AND $4::bool))
    AND NOT EXISTS (SELECT 1 FROM profile_runs r WHERE r.eid = c.eid AND (r.started_at IS NULL
      OR r.profiles @> jsonb_build_array(jsonb_build_object('name', $1::text,
        'version', $2::int)))) RETURNING 1),
u AS (UPDATE profile_heads SET scoped_version = $2, scoped_at = now()
  WHERE name = (SELECT name FROM h) AND (SELECT count(*) FROM c) < $5 RETURNING 1)
SELECT (SELECT count(*) FROM h), (SELECT count(*) FROM i), (SELECT count(*) FROM o),
  (SELECT count(*) FROM k)
