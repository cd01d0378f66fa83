SELECT (jsonb_build_object(
  'subscriptions', (SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
      'sub_id', s.sub_id, 'notif_type', s.notif_type, 'reference_list',
      s.reference_list, 'instance_path', s.instance_path, 'enabled', s.enabled,
      'created_at', s.created_at)) ORDER BY s.sub_id), '[]')
    FROM agent_subscriptions s WHERE s.eid = a.eid),
  'tasks', (SELECT coalesce(jsonb_object_agg(state, n), '{}') FROM
    (SELECT state, count(*) AS n FROM tasks t WHERE t.eid = a.eid GROUP BY state) x))
  || {{agent_json}}::jsonb)::text
FROM agents a WHERE a.eid = $1
