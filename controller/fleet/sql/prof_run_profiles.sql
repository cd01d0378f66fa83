-- For each run of agents $1 (text[]): the profile versions it takes part
-- with (profile_runs.profiles), in the order the run started them (lowest
-- priority first), with their definitions and the agent's rows. One
-- statement for a batch of runs being advanced.
SELECT r.eid, p.name, p.version, p.definition::text, p.priority, pa.version,
  coalesce(pa.state, ''), pa.pstate::text, coalesce(pa.fw_version, ''),
  coalesce(pa.boot_seen, 0), pa.applied_at IS NOT NULL, coalesce(pa.attempt, 0), x.passive
FROM profile_runs r
CROSS JOIN LATERAL jsonb_to_recordset(coalesce(r.profiles, '[]'::jsonb))
  AS x(name text, version int, passive bool, ord int)
JOIN profiles p ON p.name = x.name AND p.version = x.version
LEFT JOIN profile_agents pa ON pa.name = x.name AND pa.eid = r.eid
WHERE r.eid = ANY($1::text[])
ORDER BY r.eid, x.ord
