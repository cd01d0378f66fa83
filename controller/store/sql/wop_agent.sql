-- Agent state in two statements (see wop_agent_insert.sql): the rows exist
-- once the INSERT has run, so this UPDATE can use everything computed per
-- agent from the batch, which ON CONFLICT's `excluded` row could not carry.
-- The batch's ops of one agent are applied in submission order (ord): the
-- final state wins, and online_since becomes the start of the final online
-- run when the agent was offline before it — stored offline, or an offline
-- op earlier in this batch (offline and back online within one batch is a
-- new session that must be onboarded again), or when the batch holds the
-- agent's connect record ($7, new_session): that starts a new online run
-- even while the row still says online, because the offline that ended
-- the previous session may have been seen by another daemon and come
-- later with an older time (it is then ignored, as older states are).
WITH u AS (SELECT *, max(ord) FILTER (WHERE NOT online OR new_session)
      OVER (PARTITION BY eid) AS off_ord
    FROM unnest($1::text[], $2::bool[], $3::text[], $4::smallint[], $5::text[],
    $6::bigint[], $7::bool[]) WITH ORDINALITY AS u(eid, online, topic, mqtt, usp, us,
      new_session, ord)),
  g AS (SELECT eid, (array_agg(online ORDER BY ord DESC))[1] AS online,
    (array_agg(topic ORDER BY ord DESC) FILTER (WHERE topic IS NOT NULL))[1] AS topic,
    (array_agg(mqtt ORDER BY ord DESC) FILTER (WHERE mqtt IS NOT NULL))[1] AS mqtt,
    (array_agg(usp ORDER BY ord DESC) FILTER (WHERE usp IS NOT NULL))[1] AS usp,
    (array_agg(us ORDER BY ord DESC))[1] AS at, max(us) AS last,
    bool_or(NOT online OR new_session) AS went_off,
    min(us) FILTER (WHERE online AND ord >= coalesce(off_ord, 0)
      AND (ord > coalesce(off_ord, 0) OR new_session)) AS run_start
    FROM u GROUP BY eid)
UPDATE agents AS a SET online = g.online,
  online_since = CASE WHEN g.online AND (NOT a.online OR g.went_off)
      THEN ('epoch'::timestamptz + (g.run_start) * interval '1 microsecond')
    WHEN g.online
      THEN coalesce(a.online_since, ('epoch'::timestamptz + (g.run_start) * interval '1 microsecond'))
    ELSE a.online_since END,
  state_at = ('epoch'::timestamptz + (g.at) * interval '1 microsecond'),
  last_seen = greatest(a.last_seen, ('epoch'::timestamptz + (g.last) * interval '1 microsecond')),
  reply_topic = coalesce(g.topic, a.reply_topic),
  mqtt_version = coalesce(g.mqtt, a.mqtt_version),
  usp_versions = coalesce(g.usp, a.usp_versions), updated_at = now()
FROM g WHERE a.eid = g.eid
  AND (a.state_at IS NULL OR a.state_at <= ('epoch'::timestamptz + (g.at) * interval '1 microsecond'))
