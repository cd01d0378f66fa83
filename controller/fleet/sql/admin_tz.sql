-- Fails (22023) when PostgreSQL does not know the time zone $1.
SELECT now() AT TIME ZONE $1
