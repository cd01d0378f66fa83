-- Device counts of campaign $1 by wave, state, failure class and parking.
SELECT wave, state, coalesce(fail_class, ''), parked, count(*) FROM campaign_devices
WHERE campaign = $1 GROUP BY 1, 2, 3, 4
