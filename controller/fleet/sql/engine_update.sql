-- Apply one device's step ($1 the row): its new state and, when $12 (op)
-- is given, insert the task carrying the step's request in the same
-- statement, so a step and its request commit together or not at all.
-- $17: the old task is done with (cancelled if it is still queued: a step
-- that gave up on an unsent request). Deadlines and back-off in seconds
-- from now ($15 > 0 sets, < 0 clears, 0 keeps the deadline). step_at moves
-- only when a request is queued: a device waiting for its agent to come
-- back after an activation compares against the activation request. $21:
-- the node whose engine took the step (the timeline's "by").
WITH c AS (UPDATE tasks SET state = 'canceled', finished_at = now()
  WHERE $17::bool AND id = (SELECT task_id FROM campaign_devices WHERE id = $1::bigint)
    AND state = 'queued' RETURNING id),
t AS (INSERT INTO tasks (eid, op, request, batch_id, not_before)
  SELECT $20, $12, $13::jsonb, 'campaign:' || $19, now() WHERE $12::text IS NOT NULL RETURNING id)
UPDATE campaign_devices SET state = $2, step = nullif($3, ''), reason = nullif($4, ''),
  fail_class = nullif($5, ''), detail = nullif($6, ''), retryable = $7::bool,
  attempt = $8::int, bank = nullif($9, ''), single_bank = $10::bool, no_activate = $11::bool,
  task_id = CASE WHEN $17::bool THEN (SELECT id FROM t) ELSE task_id END,
  command_key = coalesce(nullif($14, ''), command_key),
  step_at = CASE WHEN EXISTS (SELECT 1 FROM t) THEN now() ELSE step_at END,
  deadline_at = CASE WHEN $15::bigint > 0 THEN now() + $15::bigint * interval '1 second'
    WHEN $15::bigint < 0 THEN NULL ELSE deadline_at END,
  due_at = CASE WHEN $16::bigint > 0 THEN now() + $16::bigint * interval '1 second' END,
  parked = false,
  started_at = CASE WHEN state = 'pending' AND $2 = 'downloading' THEN now() ELSE started_at END,
  finished_at = CASE WHEN $2 IN ('succeeded', 'failed', 'timed_out', 'skipped', 'canceled')
    THEN now() END,
  timeline = CASE WHEN $18 = '' OR jsonb_array_length(timeline) >= 200 THEN timeline
    ELSE timeline || jsonb_build_array(jsonb_build_object('at', now(), 'attempt', $8::int,
      'state', $2, 'step', $3, 'note', $18, 'by', $21::text)) END
WHERE id = $1::bigint
RETURNING (SELECT count(*) FROM t), (SELECT count(*) FROM c)
