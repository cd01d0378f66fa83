-- Take at most $1 runs under way whose request has ended (or vanished, or
-- that have run longer than $2 seconds), locked for this transaction, with
-- the task's outcome and what the run needs again (the agent's context).
SELECT r.eid, array_to_string(r.triggers, ','), coalesce(array_to_string(r.names, ','), ''),
  r.force_write_only, r.reset_contested, r.again, r.attempt, r.profiles::text, r.work::text,
  r.boot_key, r.factory_reset, coalesce(t.state, ''), t.result::text,
  coalesce(a.serial_number, ''), coalesce(a.oui, ''), coalesce(a.model_name, ''),
  coalesce(a.manufacturer, ''), coalesce(a.product_class, ''),
  coalesce(a.software_version, ''), coalesce(array_to_json(a.tags)::text, '[]'),
  (SELECT v.vars::text FROM profile_vars v WHERE v.eid = r.eid), {{prof_ready}},
  coalesce(a.protocol = 'cwmp', false)
FROM (SELECT * FROM profile_runs WHERE started_at IS NOT NULL AND (started_at < now() -
    $2::bigint * interval '1 second' OR NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = task_id
      AND t.state IN ('queued', 'sent')))
  ORDER BY started_at LIMIT $1 FOR UPDATE SKIP LOCKED) r
LEFT JOIN tasks t ON t.id = r.task_id
LEFT JOIN agents a ON a.eid = r.eid
