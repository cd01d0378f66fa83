-- Retry campaign $1's failed and timed-out devices whose failure was
-- retryable: back to pending (timeline note $2) with a whole budget of
-- attempts (retry_base: the attempts made so far; attempt numbers, and so
-- CommandKeys, never repeat), except devices another campaign is not done
-- with. A finished campaign runs again: its last wave is looked at afresh,
-- and its offline grace starts over (devices retried because they were
-- offline get timeouts.offline_grace_s to come back). The thresholds' base
-- loses what the retried devices counted, so the engine's "since the last
-- resume" stays right.
-- Returns the campaign's state, the devices retried and those left to
-- their other campaign.
WITH o AS (SELECT d.id, d.fail_class FROM campaign_devices d
  WHERE d.campaign = $1::bigint AND d.state IN ('failed', 'timed_out') AND d.retryable
    AND NOT EXISTS (SELECT 1 FROM campaign_devices x WHERE x.eid = d.eid
      AND x.campaign <> d.campaign
      AND x.state NOT IN ('succeeded', 'failed', 'timed_out', 'skipped', 'canceled'))
  FOR UPDATE OF d),
r AS (UPDATE campaign_devices d SET state = 'pending', step = NULL, reason = NULL,
    detail = NULL, fail_class = NULL, retryable = false, due_at = NULL, deadline_at = NULL,
    parked = false, task_id = NULL, finished_at = NULL, retry_base = d.attempt,
    timeline = CASE WHEN jsonb_array_length(d.timeline) >= 200 THEN d.timeline
      ELSE d.timeline || jsonb_build_array(jsonb_build_object('at', now(), 'state', 'pending',
        'note', $2::text)) END
  FROM o WHERE d.id = o.id RETURNING o.fail_class),
n AS (SELECT count(*) AS all_, count(*) FILTER (WHERE fail_class = 'image') AS img,
    count(*) FILTER (WHERE fail_class = 'infra') AS inf FROM r),
b AS (SELECT count(*) AS blocked FROM campaign_devices d
  WHERE d.campaign = $1::bigint AND d.state IN ('failed', 'timed_out') AND d.retryable)
UPDATE campaigns c SET
  state = CASE WHEN c.state = 'finished' AND n.all_ > 0 THEN 'running' ELSE c.state END,
  reason = CASE WHEN c.state = 'finished' AND n.all_ > 0 THEN NULL ELSE c.reason END,
  settled = CASE WHEN c.state = 'finished' AND n.all_ > 0 THEN false ELSE c.settled END,
  finished_at = CASE WHEN c.state = 'finished' AND n.all_ > 0 THEN NULL ELSE c.finished_at END,
  wave_done_at = CASE WHEN c.state = 'finished' AND n.all_ > 0 THEN NULL
    ELSE c.wave_done_at END,
  wave_started_at = CASE WHEN c.state = 'finished' AND n.all_ > 0 THEN now()
    ELSE c.wave_started_at END,
  base_finished = greatest(0, c.base_finished - n.all_),
  base_image = greatest(0, c.base_image - n.img),
  base_infra = greatest(0, c.base_infra - n.inf),
  updated_at = CASE WHEN n.all_ > 0 THEN now() ELSE c.updated_at END
FROM n, b
WHERE c.id = $1::bigint
RETURNING c.state, c.reason, n.all_, b.blocked - n.all_
