-- The last wave of campaign $1 is done: devices still pending (offline past
-- the grace time) end timed_out, retryable, so campaign_retry_failed or a
-- follow-up campaign reaches exactly them. Returns how many, per wave.
WITH u AS (UPDATE campaign_devices SET state = 'timed_out', reason = 'offline',
  fail_class = 'infra', retryable = true, parked = false, finished_at = now(),
  detail = 'the agent was offline until the campaign ended',
  timeline = timeline || jsonb_build_array(jsonb_build_object('at', now(),
    'note', 'offline until the campaign ended'))
WHERE campaign = $1::bigint AND state = 'pending' RETURNING wave)
SELECT wave, count(*) FROM u GROUP BY wave
