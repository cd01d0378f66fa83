-- A campaign's selector (its jsonb shape: fleet_admin.h, from struct
-- store_selector) as a condition on agents a; $1 is the selector jsonb. The given
-- keys combine with AND; {} matches nothing. Planned with the parameter's
-- value (unnamed statements), the keys not given fold away, so "eids" uses
-- the primary key and "tag" the tags index.
($1::jsonb -> 'eids' IS NULL
  OR a.eid = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb -> 'eids'))))
AND ($1::jsonb ->> 'tag' IS NULL OR a.tags @> ARRAY[$1::jsonb ->> 'tag'])
AND ($1::jsonb ->> 'model' IS NULL OR a.model_name = $1::jsonb ->> 'model')
AND ($1::jsonb ->> 'manufacturer' IS NULL OR a.manufacturer = $1::jsonb ->> 'manufacturer')
AND ($1::jsonb ->> 'software_version' IS NULL
  OR a.software_version = $1::jsonb ->> 'software_version')
AND ($1::jsonb ->> 'eid_like' IS NULL OR a.eid LIKE $1::jsonb ->> 'eid_like')
AND ($1::jsonb ->> 'online' IS NULL OR a.online = ($1::jsonb ->> 'online')::bool)
AND $1::jsonb <> '{}'::jsonb
