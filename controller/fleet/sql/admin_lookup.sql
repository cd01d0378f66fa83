-- A campaign by id ($1 > 0) or else by name ($2).
SELECT id FROM campaigns WHERE CASE WHEN $1::bigint > 0 THEN id = $1::bigint ELSE name = $2 END
