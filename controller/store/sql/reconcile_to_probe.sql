SELECT eid, reply_topic, coalesce(mqtt_version, 0) FROM agents
WHERE online AND reply_topic IS NOT NULL AND reply_topic <> ''
AND (onboarded_at IS NULL OR onboarded_at < online_since)
ORDER BY online_since, eid LIMIT $1::bigint
