-- Rejected records, counted per (sender, reason) by the core between two
-- flushes (core_rejmap.h): the counts add up, first_at and last_at widen,
-- and topic, detail and node_id follow the newest report. $8: this node.
-- Ops of one key within the batch are merged first (ON CONFLICT may touch
-- a row once per statement); rows are locked in key order. Unlike the
-- other kinds this is not idempotent: a batch written again after a
-- commit whose fate was unknown counts its rejections twice (the table is
-- a diagnostic, docs/schema.md).
WITH u AS (SELECT sender, reason,
    (array_agg(topic ORDER BY ord DESC) FILTER (WHERE topic IS NOT NULL))[1] AS topic,
    (array_agg(detail ORDER BY ord DESC) FILTER (WHERE detail IS NOT NULL))[1] AS detail,
    sum(n)::bigint AS n, min(fus) AS fus, max(lus) AS lus
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[],
    $7::bigint[]) WITH ORDINALITY AS u(sender, reason, topic, detail, n, fus, lus, ord)
  GROUP BY sender, reason)
INSERT INTO rejections AS r (sender, reason, topic, detail, count, first_at, last_at, node_id)
SELECT sender, reason, topic, detail, n,
  ('epoch'::timestamptz + (fus) * interval '1 microsecond'),
  ('epoch'::timestamptz + (lus) * interval '1 microsecond'), $8
FROM u ORDER BY sender, reason
ON CONFLICT (sender, reason) DO UPDATE SET
  count = r.count + excluded.count,
  first_at = least(r.first_at, excluded.first_at),
  last_at = greatest(r.last_at, excluded.last_at),
  topic = CASE WHEN excluded.last_at >= r.last_at THEN coalesce(excluded.topic, r.topic)
    ELSE r.topic END,
  detail = CASE WHEN excluded.last_at >= r.last_at THEN coalesce(excluded.detail, r.detail)
    ELSE r.detail END,
  node_id = CASE WHEN excluded.last_at >= r.last_at THEN excluded.node_id ELSE r.node_id END
