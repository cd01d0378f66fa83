-- Recount campaign $1's devices into campaign_counts, after counts_clear.sql
-- (after a change made outside the engine: create, abort, retry_failed; or
-- when a campaign has no counts yet). Reads every row of the campaign once.
INSERT INTO campaign_counts (campaign, wave, state, fail_class, n)
SELECT $1::bigint, wave, state, coalesce(fail_class, ''), count(*) FROM campaign_devices
WHERE campaign = $1::bigint GROUP BY 2, 3, 4
