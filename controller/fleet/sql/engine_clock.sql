-- Local day of week (0 = Monday) and seconds since local midnight in zone
-- $1, at now() + $2 seconds ($2: the test clock offset).
SELECT extract(isodow FROM t)::int - 1, extract(epoch FROM t::time)::int
FROM (SELECT (now() + $2::bigint * interval '1 second') AT TIME ZONE $1 AS t) x
