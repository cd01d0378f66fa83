-- How many agents the selector $1 (stored form) selects, and how many of
-- them are online; and up to $2 of the online, ready ones (a sample).
WITH p AS (SELECT $1::jsonb AS selector),
m AS (SELECT a.eid, a.online, {{prof_ready}} AS ready FROM agents a, p WHERE {{prof_match}})
SELECT (SELECT count(*) FROM m), (SELECT count(*) FROM m WHERE online),
  coalesce((SELECT array_to_json(array_agg(eid))::text FROM (SELECT eid FROM m WHERE ready
    ORDER BY md5(eid) LIMIT $2::int) s), '[]')
