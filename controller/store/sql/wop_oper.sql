-- One row per command (eid, command_key, obj_path, command_name): a row of
-- any day is updated where it is (its day is that of its first write, the
-- partition key since schema version 11), and only the commands with no
-- row yet are inserted, in the day of their time. An older update never
-- overwrites a newer one, nor 'requested' a final state.
-- Rows that reach a final state ('complete', 'failed') are announced with
-- NOTIFY uspc_oper_done, payload {"eid": ..., "command_key": ...} (one per
-- distinct pair; command_key left out when the payload would pass 7900
-- bytes), in the same transaction.
WITH u AS (SELECT DISTINCT ON (eid, key, obj, cmd) *,
    ('epoch'::timestamptz + (us) * interval '1 microsecond') AS at
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[],
    $7::bigint[], $8::text[], $9::bigint[])
  WITH ORDINALITY AS u(eid, key, obj, cmd, state, output, code, msg, us, ord)
  ORDER BY eid, key, obj, cmd, (state <> 'requested') DESC, ord DESC),
up AS (UPDATE operation_results o SET state = u.state, output = u.output,
  err_code = u.code, err_msg = u.msg, updated_at = u.at
FROM u
WHERE o.eid = u.eid AND o.command_key = u.key AND o.obj_path = u.obj
  AND o.command_name = u.cmd AND o.updated_at <= u.at
  AND NOT (u.state = 'requested' AND o.state <> 'requested')
RETURNING o.eid, o.command_key, o.state),
ins AS (INSERT INTO operation_results AS o (eid, command_key, obj_path, command_name, state,
  output, err_code, err_msg, updated_at, day)
SELECT eid, key, obj, cmd, state, output, code, msg, at, uspc_utc_day(at)
FROM u
WHERE NOT EXISTS (SELECT 1 FROM operation_results x WHERE x.eid = u.eid
  AND x.command_key = u.key AND x.obj_path = u.obj AND x.command_name = u.cmd)
ON CONFLICT (eid, command_key, obj_path, command_name, day) DO UPDATE SET
  state = excluded.state, output = excluded.output, err_code = excluded.err_code,
  err_msg = excluded.err_msg, updated_at = excluded.updated_at
WHERE o.updated_at <= excluded.updated_at
  AND NOT (excluded.state = 'requested' AND o.state <> 'requested')
RETURNING o.eid, o.command_key, o.state)
SELECT count(pg_notify('uspc_oper_done', CASE WHEN octet_length(eid) +
  octet_length(command_key) < 7800 THEN json_build_object('eid', eid,
  'command_key', command_key)::text ELSE json_build_object('eid', eid)::text END))
FROM (SELECT DISTINCT eid, command_key FROM (SELECT * FROM up UNION ALL SELECT * FROM ins) w
  WHERE state <> 'requested') d
