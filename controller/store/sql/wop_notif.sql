INSERT INTO notifications (eid, msg_id, subscription_id, kind, path, payload, received_at)
SELECT eid, msg_id, sub, kind, path, payload, ('epoch'::timestamptz + (us) * interval '1 microsecond')
FROM unnest($1::text[],
  $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::bigint[])
  AS u(eid, msg_id, sub, kind, path, payload, us)
ON CONFLICT (eid, msg_id) DO NOTHING
