-- The campaign devices an agent's readiness unparks (campaign_devices_parked:
-- one probe per agent), in the same transaction and for the same reason as
-- wop_unpark.sql; rows another transaction holds are skipped, and the
-- campaign engine's sweep gets them later.
UPDATE campaign_devices SET parked = false WHERE id = ANY(ARRAY(SELECT id FROM campaign_devices
  WHERE eid = ANY($1::text[]) AND parked FOR UPDATE SKIP LOCKED))
