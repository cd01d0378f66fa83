SELECT coalesce(json_object_agg(s.path, json_build_object('value', s.value,
    'updated_at', s.updated_at) ORDER BY s.path), '{}')::text
FROM (SELECT * FROM snapshot WHERE eid = $1 AND path LIKE $2
  ORDER BY path LIMIT $3::bigint) s
