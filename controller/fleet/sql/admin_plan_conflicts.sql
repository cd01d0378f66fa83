-- Devices fleet_plan would update that another campaign is not done with
-- (the condition of campaign_devices_one_active): how many, and the first
-- five with their campaign.
SELECT count(*) OVER (), p.eid, d.campaign, c.name
FROM fleet_plan p
JOIN campaign_devices d ON d.eid = p.eid
  AND d.state NOT IN ('succeeded', 'failed', 'timed_out', 'skipped', 'canceled')
JOIN campaigns c ON c.id = d.campaign
WHERE p.state = 'pending'
ORDER BY p.eid LIMIT 5
