-- The days of table $1 that must have a partition: $2 - 1 through $2 + $3
-- (yesterday, today and partition_ahead_days ahead), and every day that
-- has rows waiting in its DEFAULT partition. Oldest first.
SELECT d::text FROM (SELECT generate_series($2::date - 1, $2::date + $3::int, interval '1 day')::date
  UNION SELECT uspc_part_default_days($1)) x(d) ORDER BY d
