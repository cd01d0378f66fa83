-- $9: only agents whose eid sorts after it (keyset paging; NULL: from the
-- first), through the primary key.
SELECT coalesce(json_agg({{agent_json}} ORDER BY a.eid), '[]')::text
FROM (SELECT * FROM agents a
  WHERE {{sel_where}} AND ($9::text IS NULL OR a.eid > $9::text)
  ORDER BY a.eid LIMIT $8) a
