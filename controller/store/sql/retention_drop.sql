-- Drop partition $2 of table $1 if it lies before day $3 (and, for tasks,
-- holds no open task), waiting at most $4 ms for its lock.
SELECT uspc_part_drop($1, $2, $3::date, $4::int)
