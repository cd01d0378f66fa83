-- A Notify retried with the same msg_id is stored once: ON CONFLICT on
-- (eid, msg_id, day) within its UTC day, and a retry received in the
-- first hour of a day is also looked for in the day before (a unique key
-- of the partitioned table must hold its key, `day`).
INSERT INTO notifications (eid, msg_id, subscription_id, kind, path, payload, received_at, day)
SELECT eid, msg_id, sub, kind, path, payload, at, uspc_utc_day(at)
FROM (SELECT u.*, ('epoch'::timestamptz + (us) * interval '1 microsecond') AS at
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[],
    $7::bigint[]) AS u(eid, msg_id, sub, kind, path, payload, us)) u
WHERE us % 86400000000 >= 3600000000 OR NOT EXISTS (SELECT 1 FROM notifications n
  WHERE n.eid = u.eid AND n.msg_id = u.msg_id AND n.day = uspc_utc_day(u.at) - 1)
ON CONFLICT (eid, msg_id, day) DO NOTHING
