t.id, t.eid, t.op, t.request::text, t.batch_id, t.attempts,
(extract(epoch FROM t.expires_at) * 1000000)::bigint AS exp_us,
(SELECT a.reply_topic FROM agents a WHERE a.eid = t.eid) AS reply_topic,
(SELECT a.mqtt_version FROM agents a WHERE a.eid = t.eid) AS mqtt_version
