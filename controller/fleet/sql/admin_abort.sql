-- Abort campaign $1 (reason $2): its pending devices are canceled here
-- (timeline note $3); the engine stops the ones in flight that have not
-- activated. Returns the number canceled.
WITH d AS (UPDATE campaign_devices SET state = 'canceled', reason = 'aborted',
    finished_at = now(), due_at = NULL, parked = false,
    timeline = CASE WHEN jsonb_array_length(timeline) >= 200 THEN timeline
      ELSE timeline || jsonb_build_array(jsonb_build_object('at', now(), 'state', 'canceled',
        'note', $3::text)) END
  WHERE campaign = $1::bigint AND state = 'pending' RETURNING 1)
UPDATE campaigns SET state = 'aborted', reason = $2, finished_at = now(), updated_at = now()
WHERE id = $1::bigint
RETURNING (SELECT count(*) FROM d)
