-- $1..$7; queries append their own parameters from $8.
($1::text[] IS NULL OR a.eid = ANY($1::text[]))
AND ($2::text IS NULL OR a.tags @> ARRAY[$2::text])
AND ($3::text IS NULL OR a.model_name = $3)
AND ($4::text IS NULL OR a.manufacturer = $4)
AND ($5::text IS NULL OR a.software_version = $5)
AND ($6::text IS NULL OR a.eid LIKE $6)
AND ($7::bool IS NULL OR a.online = $7)
