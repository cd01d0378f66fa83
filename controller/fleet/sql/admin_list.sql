-- Every campaign, newest first, with its devices counted by state (one
-- index walk of campaign_devices_state per campaign).
SELECT coalesce(json_agg(json_build_object('campaign', c.id, 'name', c.name,
    'state', c.state, 'reason', c.reason, 'targets', c.targets, 'wave', c.wave + 1,
    'waves', c.waves, 'counts', json_build_object(
      'succeeded', coalesce(k.succeeded, 0), 'failed', coalesce(k.failed, 0),
      'timed_out', coalesce(k.timed_out, 0), 'in_progress', coalesce(k.in_progress, 0),
      'pending', coalesce(k.pending, 0), 'skipped', coalesce(k.skipped, 0),
      'canceled', coalesce(k.canceled, 0)),
    'created_at', c.created_at, 'finished_at', c.finished_at) ORDER BY c.id DESC), '[]')::text
FROM campaigns c
LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE state = 'succeeded') AS succeeded,
    count(*) FILTER (WHERE state = 'failed') AS failed,
    count(*) FILTER (WHERE state = 'timed_out') AS timed_out,
    count(*) FILTER (WHERE state IN ('downloading', 'downloaded', 'activating', 'rebooting',
      'verifying')) AS in_progress,
    count(*) FILTER (WHERE state = 'pending') AS pending,
    count(*) FILTER (WHERE state = 'skipped') AS skipped,
    count(*) FILTER (WHERE state = 'canceled') AS canceled
  FROM campaign_devices d WHERE d.campaign = c.id) k ON true
