-- Take at most $1 waiting runs that are due (oldest first), locked for this
-- transaction, with what starting one needs: the agent's readiness and
-- inventory (the templates' context), its variables, and its newest Boot!
-- (the notification's id is the boot's identity; its Cause tells a factory
-- reset), and whether it is a TR-069 device.
SELECT r.eid, array_to_string(r.triggers, ','), coalesce(array_to_string(r.names, ','), ''),
  r.force_write_only, r.reset_contested, r.again, r.attempt,
  {{prof_ready}}, a.eid IS NOT NULL,
  coalesce(a.serial_number, ''), coalesce(a.oui, ''), coalesce(a.model_name, ''),
  coalesce(a.manufacturer, ''), coalesce(a.product_class, ''),
  coalesce(a.software_version, ''), coalesce(array_to_json(a.tags)::text, '[]'),
  (SELECT v.vars::text FROM profile_vars v WHERE v.eid = r.eid),
  coalesce(b.id, 0), coalesce(b.cause, ''), coalesce(a.protocol = 'cwmp', false)
FROM (SELECT * FROM profile_runs WHERE started_at IS NULL AND due_at <= now()
  ORDER BY due_at LIMIT $1 FOR UPDATE SKIP LOCKED) r
LEFT JOIN agents a ON a.eid = r.eid
LEFT JOIN LATERAL (SELECT n.id, n.payload -> 'event' -> 'params' ->> 'Cause' AS cause
  FROM notifications n WHERE n.eid = r.eid AND n.kind = 'event' AND n.path = 'Device.Boot!'
  ORDER BY n.received_at DESC LIMIT 1) b ON true
ORDER BY r.due_at
