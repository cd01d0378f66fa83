-- Explicit targets of selector $1 that are not in the inventory: how many,
-- and the first five.
SELECT count(*) OVER (), e FROM jsonb_array_elements_text($1::jsonb -> 'eids') e
WHERE NOT EXISTS (SELECT 1 FROM agents a WHERE a.eid = e)
ORDER BY e LIMIT 5
