-- Tasks still open among those created before day $1 are expired (their
-- days are about to be dropped).
SELECT uspc_part_expire_tasks($1::date)
