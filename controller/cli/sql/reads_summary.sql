-- uspctl fleet_summary, all but "models" (fleet_admin_versions, in the
-- same read-only transaction). Agents: one pass over the inventory (ready:
-- online and onboarded since it came online, as the task claim counts
-- it). Tasks: counted through the partial indexes on queued (tasks_queued_eid,
-- tasks_ready) and sent (tasks_sent) tasks, never the finished ones; parked
-- is the queued ones minus those tasks_ready holds. Rejections: the table
-- is bounded (rejections_max_rows); the last hour through rejections_last_at.
SELECT json_build_object(
  'agents', (SELECT json_build_object('total', count(*),
      'online', count(*) FILTER (WHERE a.online),
      'ready', count(*) FILTER (WHERE a.online
        AND a.onboarded_at >= coalesce(a.online_since, '-infinity')),
      'offline', count(*) FILTER (WHERE NOT a.online))
    FROM agents a),
  'recent_onboardings', (SELECT coalesce(json_agg(json_build_object('eid', r.eid,
        'model_name', r.model_name, 'software_version', r.software_version,
        'onboarded_at', r.onboarded_at) ORDER BY r.onboarded_at DESC, r.eid), '[]')
    FROM (SELECT a.eid, a.model_name, a.software_version, a.onboarded_at
      FROM agents a WHERE a.onboarded_at IS NOT NULL
      ORDER BY a.onboarded_at DESC, a.eid LIMIT 10) r),
  'tasks', (SELECT json_build_object('queued', q.n, 'parked', q.n - q.ready,
        'sent', (SELECT count(*) FROM tasks t WHERE t.state = 'sent'))
    FROM (SELECT (SELECT count(*) FROM tasks t WHERE t.state = 'queued') AS n,
        (SELECT count(*) FROM tasks t WHERE t.state = 'queued' AND NOT t.parked)
          AS ready) q),
  'rejections', json_build_object(
    'rows', (SELECT count(*) FROM rejections),
    'senders_last_hour', (SELECT count(DISTINCT j.sender) FROM rejections j
      WHERE j.last_at >= now() - interval '1 hour')))::text
