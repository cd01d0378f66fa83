-- Resume campaign $1: the breaker starts over, and the failure thresholds
-- count from now (the counts at the resume are their base).
UPDATE campaigns c SET state = 'running', reason = NULL, consecutive_image = 0,
  consecutive_infra = 0, base_finished = x.fin, base_image = x.img, base_infra = x.inf,
  updated_at = now()
FROM (SELECT count(*) FILTER (WHERE state IN ('succeeded', 'failed', 'timed_out')) AS fin,
    count(*) FILTER (WHERE state IN ('failed', 'timed_out') AND fail_class = 'image') AS img,
    count(*) FILTER (WHERE state IN ('failed', 'timed_out') AND fail_class = 'infra') AS inf
  FROM campaign_devices WHERE campaign = $1::bigint) x
WHERE c.id = $1::bigint
