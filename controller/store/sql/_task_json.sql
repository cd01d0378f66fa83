-- A task row for uspctl. `parked` appears (true) only on a queued task that a
-- daemon found waiting for its agent (offline, or not onboarded since it
-- came online); it is sent once the agent is ready (docs/schema.md).
json_strip_nulls(json_build_object('id', t.id, 'eid', t.eid, 'op', t.op,
  'state', t.state, 'attempts', t.attempts, 'batch_id', t.batch_id,
  'request', t.request, 'created_at', t.created_at, 'not_before', t.not_before,
  'expires_at', t.expires_at, 'claimed_by', t.claimed_by, 'sent_at', t.sent_at,
  'finished_at', t.finished_at, 'msg_id', t.msg_id, 'result', t.result,
  'error_code', t.error_code, 'error_message', t.error_message,
  'parked', CASE WHEN t.state = 'queued' AND t.parked THEN true END))
