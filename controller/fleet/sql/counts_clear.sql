-- Forget campaign $1's counts (before counts_rebuild.sql or
-- engine_counts_save.sql writes them again, in the same transaction).
DELETE FROM campaign_counts WHERE campaign = $1::bigint
