SELECT coalesce(json_agg({{task_json}} ORDER BY t.id), '[]')::text
FROM tasks t WHERE t.batch_id = $1
