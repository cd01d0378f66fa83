-- Rows that reach a final state ('complete', 'failed') are announced with
-- NOTIFY uspc_oper_done, payload {"eid": ..., "command_key": ...} (one per
-- distinct pair; command_key left out when the payload would pass 7900
-- bytes), in the same transaction.
WITH u AS (SELECT DISTINCT ON (eid, key, obj, cmd) * FROM unnest($1::text[], $2::text[],
  $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::bigint[], $8::text[], $9::bigint[])
  WITH ORDINALITY AS u(eid, key, obj, cmd, state, output, code, msg, us, ord)
  ORDER BY eid, key, obj, cmd, (state <> 'requested') DESC, ord DESC),
w AS (INSERT INTO operation_results AS o (eid, command_key, obj_path, command_name, state,
  output, err_code, err_msg, updated_at)
SELECT eid, key, obj, cmd, state, output, code, msg, ('epoch'::timestamptz + (us) * interval '1 microsecond')
FROM u
ON CONFLICT (eid, command_key, obj_path, command_name) DO UPDATE SET
  state = excluded.state, output = excluded.output, err_code = excluded.err_code,
  err_msg = excluded.err_msg, updated_at = excluded.updated_at
WHERE o.updated_at <= excluded.updated_at
  AND NOT (excluded.state = 'requested' AND o.state <> 'requested')
RETURNING o.eid, o.command_key, o.state)
SELECT count(pg_notify('uspc_oper_done', CASE WHEN octet_length(eid) +
  octet_length(command_key) < 7800 THEN json_build_object('eid', eid,
  'command_key', command_key)::text ELSE json_build_object('eid', eid)::text END))
FROM (SELECT DISTINCT eid, command_key FROM w WHERE state <> 'requested') d
