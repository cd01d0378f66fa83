-- Campaign $1's counts as a pass ends with them, after counts_clear.sql ($2
-- waves, $3 states, $4 classes, $5 counts: parallel arrays, zero cells left
-- out).
INSERT INTO campaign_counts (campaign, wave, state, fail_class, n)
SELECT $1::bigint, w, s, f, n FROM unnest($2::int[], $3::text[], $4::text[], $5::bigint[])
  AS u(w, s, f, n)
