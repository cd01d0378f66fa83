-- The devices of campaign $1 with a step in flight, and what the engine
-- needs to advance each: how its task ended, the TransferComplete! and the
-- OperationComplete carrying its CommandKey (operation_results, by primary
-- key), whether its agent is ready and came back since the step's request,
-- and the newest Boot! since then (notifications_events). At most $3
-- devices with a step in flight, then at most $4 of those waiting to
-- activate (those after id $7, a cursor, when the window is read per
-- device), and those only when $2 (activation allowed): staged devices
-- beyond the free slots are not read at all. $5: the tag prefix that names
-- a device's own time zone (NULL: none); a device tagged with a zone
-- PostgreSQL knows gets its local day of week (0 = Monday) and second of
-- the day at now() + $6 seconds (the test clock), else -1. The last column
-- says the device is a TR-069 one (its own procedure in fleet_fw.c).
WITH zones AS MATERIALIZED (SELECT name FROM pg_timezone_names WHERE $5::text IS NOT NULL)
SELECT cd.id, cd.eid, cd.state, coalesce(cd.step, ''), cd.attempt, coalesce(cd.bank, ''),
  cd.single_bank, cd.no_activate, coalesce(cd.deadline_at <= now(), false),
  coalesce(t.state, ''), t.result::text, coalesce(t.error_code, 0), coalesce(t.error_message, ''),
  (SELECT o.output::text FROM operation_results o WHERE o.eid = cd.eid
     AND o.command_key = cd.command_key AND o.command_name = 'TransferComplete!' LIMIT 1),
  coalesce((SELECT CASE o.state WHEN 'complete' THEN 1 ELSE -1 END FROM operation_results o
     WHERE o.eid = cd.eid AND o.command_key = cd.command_key
       AND o.command_name <> 'TransferComplete!' AND o.state <> 'requested' LIMIT 1), 0),
  coalesce((SELECT o.err_msg FROM operation_results o WHERE o.eid = cd.eid
     AND o.command_key = cd.command_key AND o.command_name <> 'TransferComplete!'
     AND o.state = 'failed' LIMIT 1), ''),
  coalesce(a.online AND a.onboarded_at >= coalesce(a.online_since, '-infinity'), false),
  coalesce(a.online_since > cd.step_at, false),
  (SELECT n.payload->'event'->'params' FROM notifications n WHERE n.eid = cd.eid
     AND n.kind = 'event' AND n.received_at >= cd.step_at AND n.path = 'Device.Boot!'
   ORDER BY n.received_at DESC LIMIT 1)::text, cd.wave, cd.retry_base,
  coalesce(a.online, false),
  coalesce(extract(isodow FROM (now() + $6::bigint * interval '1 second') AT TIME ZONE dz.name)::int
    - 1, -1),
  coalesce(extract(epoch FROM ((now() + $6::bigint * interval '1 second')
    AT TIME ZONE dz.name)::time)::int, -1),
  coalesce(a.protocol = 'cwmp', false)
FROM ((SELECT * FROM campaign_devices WHERE campaign = $1
    AND state IN ('downloading', 'activating', 'rebooting', 'verifying') ORDER BY id LIMIT $3)
  UNION ALL
  (SELECT * FROM campaign_devices WHERE campaign = $1 AND state = 'downloaded' AND $2::bool
    AND id > $7::bigint ORDER BY id LIMIT $4)) cd
LEFT JOIN tasks t ON t.id = cd.task_id
LEFT JOIN agents a ON a.eid = cd.eid
LEFT JOIN LATERAL (SELECT z.name FROM unnest(a.tags) tg(tag) JOIN zones z
    ON z.name = substr(tg.tag, length($5::text) + 1)
  WHERE starts_with(tg.tag, $5::text) LIMIT 1) dz ON true
ORDER BY cd.state = 'downloaded', cd.id
