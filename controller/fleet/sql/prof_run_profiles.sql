-- The profile versions run $2 (jsonb [{"name","version"}]) of agent $1
-- takes part with, in the order the run started them (lowest priority
-- first), with their definitions and this agent's rows.
SELECT p.name, p.version, p.definition::text, p.priority, pa.version, coalesce(pa.state, ''),
  pa.pstate::text, coalesce(pa.fw_version, ''), coalesce(pa.boot_seen, 0),
  pa.applied_at IS NOT NULL, coalesce(pa.attempt, 0), x.passive
FROM jsonb_to_recordset($2::jsonb) AS x(name text, version int, passive bool, ord int)
JOIN profiles p ON p.name = x.name AND p.version = x.version
LEFT JOIN profile_agents pa ON pa.name = x.name AND pa.eid = $1
ORDER BY x.ord
