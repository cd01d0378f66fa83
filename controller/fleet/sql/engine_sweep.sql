-- Safety net, once a minute: unpark campaign devices whose agent is ready
-- (an unpark the writer skipped because another transaction held the row).
UPDATE campaign_devices SET parked = false WHERE id = ANY(ARRAY(
  SELECT cd.id FROM agents a JOIN campaign_devices cd ON cd.eid = a.eid
  WHERE a.online AND a.onboarded_at >= coalesce(a.online_since, '-infinity') AND cd.parked
  FOR UPDATE OF cd SKIP LOCKED))
