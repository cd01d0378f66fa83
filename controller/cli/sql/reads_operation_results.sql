-- uspctl operation_results: the rows of every agent ($1 NULL) or of these
-- agents ($1), $2 a command_key (NULL: any), most recently updated first
-- (operation_results_updated, schema version 8, without agents; the
-- primary key, which starts with eid, with them); $3 rows at most.
SELECT o.eid, json_build_object('eid', o.eid, 'command_key', o.command_key,
  'obj_path', o.obj_path, 'command_name', o.command_name, 'state', o.state,
  'output', o.output, 'err_code', o.err_code, 'err_msg', o.err_msg,
  'created_at', o.created_at, 'updated_at', o.updated_at)::text
FROM operation_results o
WHERE ($1::text[] IS NULL OR o.eid = ANY($1::text[]))
  AND ($2::text IS NULL OR o.command_key = $2::text)
ORDER BY o.updated_at DESC, o.eid, o.command_key, o.obj_path, o.command_name
LIMIT $3::bigint
