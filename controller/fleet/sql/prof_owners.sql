-- Agent $1's path owners after a run over profiles $3 (text[]): $2 is
-- {"path": {"profile", "version"}}. Paths those profiles no longer own
-- are dropped; the other profiles' rows stay.
WITH n AS (SELECT key AS path, value ->> 'profile' AS name, (value ->> 'version')::int AS version
    FROM jsonb_each($2::jsonb) WHERE EXISTS (SELECT 1 FROM profile_heads h
      WHERE h.name = value ->> 'profile' AND h.deleted_at IS NULL)),
d AS (DELETE FROM profile_paths pp WHERE pp.eid = $1 AND pp.name = ANY($3::text[])
    AND NOT EXISTS (SELECT 1 FROM n WHERE n.path = pp.path) RETURNING 1)
INSERT INTO profile_paths AS pp (eid, path, name, version)
SELECT $1, path, name, version FROM n ORDER BY path
ON CONFLICT (eid, path) DO UPDATE SET name = excluded.name, version = excluded.version,
  at = now()
