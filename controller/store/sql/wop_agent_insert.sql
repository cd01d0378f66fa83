-- Runs first, as its own statement so that the UPDATE's snapshot sees rows
-- another daemon inserted concurrently (ON CONFLICT waits for them).
INSERT INTO agents (eid, first_seen)
SELECT eid, ('epoch'::timestamptz + (min(us)) * interval '1 microsecond')
FROM unnest($1::text[], $2::bigint[]) AS u(eid, us)
GROUP BY eid ORDER BY eid ON CONFLICT (eid) DO NOTHING
