-- The partitions of table $1 that lie wholly before day $2, oldest first.
SELECT name FROM uspc_part_list($1) WHERE NOT is_default AND hi <= $2::date ORDER BY hi
