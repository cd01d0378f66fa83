-- The live profiles whose scope holds agent $1, lowest priority first,
-- with this agent's row of each (absent: never selected it before).
SELECT p.name, p.version, p.definition::text, p.priority, pa.version, coalesce(pa.state, ''),
  pa.pstate::text, coalesce(pa.fw_version, ''), coalesce(pa.boot_seen, 0),
  pa.applied_at IS NOT NULL, coalesce(pa.attempt, 0)
FROM profile_heads h JOIN profiles p ON p.name = h.name AND p.version = h.version
JOIN agents a ON a.eid = $1
LEFT JOIN profile_agents pa ON pa.name = h.name AND pa.eid = $1
WHERE h.deleted_at IS NULL AND {{prof_match}}
ORDER BY p.priority, p.name
