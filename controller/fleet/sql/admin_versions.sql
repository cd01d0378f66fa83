-- Devices per model and software version among the agents selector $1
-- matches, from the inventory (what the devices report).
SELECT coalesce(json_agg(json_build_object('model', model_name,
    'software_version', software_version, 'devices', n, 'online', o)
  ORDER BY model_name, software_version), '[]')::text
FROM (SELECT a.model_name, a.software_version, count(*) AS n,
    count(*) FILTER (WHERE a.online) AS o
  FROM agents a WHERE {{sel_jsonb}} GROUP BY 1, 2) x
