-- Day $2 of table $1 gets its partition: -1 when it had one, else the
-- rows moved into it from the DEFAULT partition.
SELECT uspc_part_ensure($1, $2::date)
