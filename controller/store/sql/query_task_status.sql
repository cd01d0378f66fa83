SELECT coalesce(json_agg({{task_json}} ORDER BY u.ord), '[]')::text
FROM unnest($1::bigint[]) WITH ORDINALITY AS u(id, ord)
JOIN tasks t ON t.id = u.id
