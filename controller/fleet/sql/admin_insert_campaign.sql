-- A new campaign: $1 name, $2 definition, $3 selector, $4 credentials (or
-- NULL), $5 seed, $6 waves, $7 targets.
INSERT INTO campaigns (name, spec, selector, secret, seed, waves, targets, state)
VALUES ($1, $2::jsonb, $3::jsonb, $4::jsonb, $5::bigint, $6::int, $7::bigint, 'running')
RETURNING id
