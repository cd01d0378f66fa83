-- Pending devices of campaign $1 in waves $2..$3: any that can start now
-- (campaign_devices_queue), any parked offline (campaign_devices_waiting).
SELECT EXISTS (SELECT 1 FROM campaign_devices WHERE campaign = $1 AND state = 'pending'
    AND NOT parked AND wave BETWEEN $2 AND $3),
  EXISTS (SELECT 1 FROM campaign_devices WHERE campaign = $1 AND state = 'pending'
    AND parked AND wave BETWEEN $2 AND $3)
