SELECT coalesce(json_agg({{agent_json}} ORDER BY a.eid), '[]')::text
FROM (SELECT * FROM agents a
  WHERE {{sel_where}}
  ORDER BY a.eid LIMIT $8) a
