-- Every profile (deleted ones too), by priority, with its agents by state.
SELECT h.name, h.version, h.deleted_at IS NOT NULL, p.priority, p.mode, to_json(h.updated_at) #>> '{}',
  (SELECT coalesce(json_object_agg(state, n), '{}')::text FROM (SELECT state, count(*) AS n
    FROM profile_agents WHERE name = h.name GROUP BY state) s)
FROM profile_heads h JOIN profiles p ON p.name = h.name AND p.version = h.version
ORDER BY h.deleted_at IS NOT NULL, p.priority DESC, h.name
