-- Per-device variables: $1 (text[]) agents get $2 (jsonb array, same
-- order) as their variables, replacing what they had.
INSERT INTO profile_vars AS v (eid, vars)
SELECT e, x FROM unnest($1::text[], ARRAY(SELECT jsonb_array_elements($2::jsonb))) AS u(e, x)
ON CONFLICT (eid) DO UPDATE SET vars = excluded.vars, updated_at = now()
