-- 2 s of slack for clock differences between the daemon (which stamps
-- updated_at) and PostgreSQL (which stamps created_at).
SELECT x.task, o.obj_path, o.command_name, o.state, o.output::text,
  o.err_code, o.err_msg
FROM unnest($1::bigint[], $2::text[], $3::text[]) AS x(task, eid, key)
JOIN tasks t ON t.id = x.task
JOIN operation_results o ON o.eid = x.eid AND o.command_key = x.key
  AND o.updated_at >= t.created_at - interval '2 seconds'
WHERE o.state IN ('complete', 'failed') AND o.command_name <> 'TransferComplete!'
ORDER BY x.task, o.obj_path, o.command_name
