-- uspctl fleet_summary in one statement. Agents: one pass over the
-- inventory, grouped by model and software version (ready: online and
-- onboarded since it came online, as the task claim counts it); the
-- totals are the sums of the groups, "models" the groups themselves (what
-- fleet_versions counts). Recent onboardings: the newest ten entries of
-- agents_onboarded. Tasks: counted through the partial indexes on queued
-- (tasks_queued_eid, tasks_ready) and sent (tasks_sent) tasks, never the
-- finished ones, each once; parked is the queued ones minus those
-- tasks_ready holds. Rejections: the table is bounded
-- (rejections_max_rows); the last hour through rejections_last_at.
WITH g AS MATERIALIZED (SELECT a.model_name, a.software_version, count(*) AS n,
    count(*) FILTER (WHERE a.online) AS online,
    count(*) FILTER (WHERE a.online
      AND a.onboarded_at >= coalesce(a.online_since, '-infinity')) AS ready
  FROM agents a GROUP BY 1, 2),
q AS MATERIALIZED (SELECT (SELECT count(*) FROM tasks t WHERE t.state = 'queued') AS n,
    (SELECT count(*) FROM tasks t WHERE t.state = 'queued' AND NOT t.parked) AS ready,
    (SELECT count(*) FROM tasks t WHERE t.state = 'sent') AS sent)
SELECT json_build_object(
  'agents', (SELECT json_build_object('total', coalesce(sum(g.n), 0),
      'online', coalesce(sum(g.online), 0), 'ready', coalesce(sum(g.ready), 0),
      'offline', coalesce(sum(g.n - g.online), 0)) FROM g),
  'models', (SELECT coalesce(json_agg(json_build_object('model', g.model_name,
        'software_version', g.software_version, 'agents', g.n, 'online', g.online)
      ORDER BY g.model_name, g.software_version), '[]') FROM g),
  'recent_onboardings', (SELECT coalesce(json_agg(json_build_object('eid', r.eid,
        'model_name', r.model_name, 'software_version', r.software_version,
        'onboarded_at', r.onboarded_at) ORDER BY r.onboarded_at DESC, r.eid), '[]')
    FROM (SELECT a.eid, a.model_name, a.software_version, a.onboarded_at
      FROM agents a WHERE a.onboarded_at IS NOT NULL
      ORDER BY a.onboarded_at DESC, a.eid LIMIT 10) r),
  'tasks', (SELECT json_build_object('queued', q.n, 'parked', q.n - q.ready, 'sent', q.sent)
    FROM q),
  'rejections', json_build_object(
    'rows', (SELECT count(*) FROM rejections),
    'senders_last_hour', (SELECT count(DISTINCT j.sender) FROM rejections j
      WHERE j.last_at >= now() - interval '1 hour')))::text
