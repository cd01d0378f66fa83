-- One maintenance at a time across all daemons: a session advisory lock
-- ("uspc" in ASCII and a tag, as the migration lock), released at the end
-- of the run or when the connection closes.
SELECT pg_try_advisory_lock(7571706302)
