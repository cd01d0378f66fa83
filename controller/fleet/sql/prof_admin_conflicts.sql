-- Live profiles other than $1 with priority $2 that name one of paths $3
-- (text[]): profile_put refuses the tie. Each with one shared path.
SELECT p.name, (SELECT x FROM unnest(p.paths) x WHERE x = ANY($3::text[]) LIMIT 1)
FROM profile_heads h JOIN profiles p ON p.name = h.name AND p.version = h.version
WHERE h.deleted_at IS NULL AND h.name <> $1 AND p.priority = $2::int
  AND p.paths && $3::text[]
ORDER BY p.name LIMIT 5
