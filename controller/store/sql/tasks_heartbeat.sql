INSERT INTO daemons (node_id, started_at, heartbeat_at) VALUES ($1, now(), now())
ON CONFLICT (node_id) DO UPDATE SET heartbeat_at = now(),
  started_at = CASE WHEN $2::bool THEN now() ELSE daemons.started_at END
