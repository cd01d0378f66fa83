-- Profile $1: its head, current version's definition, and its agents by
-- state (out_of_scope rows are not targeted).
SELECT h.version, h.deleted_at IS NOT NULL, p.definition::text, p.priority, p.mode,
  to_json(p.created_at) #>> '{}', p.created_by,
  (SELECT coalesce(json_object_agg(state, n), '{}')::text FROM (SELECT state, count(*) AS n
    FROM profile_agents WHERE name = $1 GROUP BY state) s),
  (SELECT count(*) FROM profile_agents WHERE name = $1 AND version <> h.version
    AND state <> 'out_of_scope')
FROM profile_heads h JOIN profiles p ON p.name = h.name AND p.version = h.version
WHERE h.name = $1
