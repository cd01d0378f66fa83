-- profile_put of $1 (normalised definition $2, selector $3, priority $4,
-- mode $5, paths $6 text[], by $7), under the head's row lock: a new
-- version when the definition differs from the current one (or the
-- profile was deleted), else nothing. Returns the version and whether it
-- is new.
WITH cur AS (SELECT h.version, h.deleted_at IS NOT NULL AS deleted, p.definition
    FROM profile_heads h JOIN profiles p ON p.name = h.name AND p.version = h.version
    WHERE h.name = $1 FOR UPDATE OF h),
v AS (SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM cur) THEN 1
    WHEN (SELECT deleted OR definition <> $2::jsonb FROM cur) THEN (SELECT version + 1 FROM cur)
    END AS version),
i AS (INSERT INTO profiles (name, version, definition, selector, priority, mode, paths,
    created_by)
  SELECT $1, v.version, $2::jsonb, $3::jsonb, $4::int, $5, $6::text[], $7 FROM v
  WHERE v.version IS NOT NULL RETURNING version),
h AS (INSERT INTO profile_heads AS h (name, version) SELECT $1, version FROM i
  ON CONFLICT (name) DO UPDATE SET version = excluded.version, deleted_at = NULL,
    updated_at = now()
  RETURNING version)
SELECT coalesce((SELECT version FROM h), (SELECT version FROM cur)), EXISTS (SELECT 1 FROM h),
  pg_notify('uspc_profile', 'put')
