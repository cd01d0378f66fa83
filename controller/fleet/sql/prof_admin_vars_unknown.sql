-- Of the variable names $1 (text[]), those no agent has (profile_put
-- refuses a template naming one).
SELECT v FROM unnest($1::text[]) v
WHERE NOT EXISTS (SELECT 1 FROM profile_vars pv WHERE pv.vars ? v) ORDER BY v
