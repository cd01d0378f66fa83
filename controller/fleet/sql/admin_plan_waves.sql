-- Cut fleet_plan's pending rows into waves: $1 holds the first rank of
-- each wave after the first (the cumulative ends + 1, computed in C by
-- fleet_spec_wave_end), so a row's wave is the number of those <= its rank.
UPDATE fleet_plan SET wave = width_bucket(rank, $1::bigint[]) WHERE state = 'pending'
