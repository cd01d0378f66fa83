-- profile_delete $1: the head is marked deleted (versions and history
-- stay), its agents' rows and path ownership go; values on agents stay.
WITH h AS (UPDATE profile_heads SET deleted_at = now(), updated_at = now()
    WHERE name = $1 AND deleted_at IS NULL RETURNING name),
a AS (DELETE FROM profile_agents WHERE name = $1 AND EXISTS (SELECT 1 FROM h) RETURNING 1),
o AS (DELETE FROM profile_paths WHERE name = $1 AND EXISTS (SELECT 1 FROM h) RETURNING 1)
SELECT (SELECT count(*) FROM h), (SELECT count(*) FROM a), (SELECT count(*) FROM o),
  EXISTS (SELECT 1 FROM profile_heads WHERE name = $1), pg_notify('uspc_profile', 'delete')
