-- For each agent of $1 (text[]): the live profiles whose scope holds it,
-- lowest priority first, with this agent's row of each (absent: never
-- selected it before). One statement for a batch of runs being started.
SELECT a.eid, p.name, p.version, p.definition::text, p.priority, pa.version,
  coalesce(pa.state, ''), pa.pstate::text, coalesce(pa.fw_version, ''),
  coalesce(pa.boot_seen, 0), pa.applied_at IS NOT NULL, coalesce(pa.attempt, 0)
FROM agents a
JOIN profile_heads h ON h.deleted_at IS NULL
JOIN profiles p ON p.name = h.name AND p.version = h.version
LEFT JOIN profile_agents pa ON pa.name = h.name AND pa.eid = a.eid
WHERE a.eid = ANY($1::text[]) AND {{prof_match}}
ORDER BY a.eid, p.priority, p.name
