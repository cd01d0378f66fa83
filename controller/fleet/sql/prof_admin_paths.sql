-- Who owns the paths of agents $1 (text[]) under prefix $2 ('' all):
-- profile, version, since, and the profile's state on that agent.
SELECT json_build_object('agent', pp.eid, 'path', pp.path, 'profile', pp.name,
  'version', pp.version, 'since', pp.at, 'state', pa.state,
  'value', (SELECT s.value FROM snapshot s WHERE s.eid = pp.eid AND s.path = pp.path))::text
FROM profile_paths pp LEFT JOIN profile_agents pa ON pa.name = pp.name AND pa.eid = pp.eid
WHERE pp.eid = ANY($1::text[]) AND starts_with(pp.path, $2)
ORDER BY pp.eid, pp.path LIMIT 10000
