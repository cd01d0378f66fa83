-- The maintenance's "today": the UTC day of the database's clock moved by
-- $1 seconds (maintenance_clock_offset_s, a test setting; 0 in service).
SELECT uspc_utc_day(now() + $1::bigint * interval '1 second')
