-- Device counts of campaign $1 by wave, state and failure class (kept in
-- campaign_counts; counts_rebuild.sql fills them when there are none).
SELECT wave, state, fail_class, n FROM campaign_counts WHERE campaign = $1
