-- Agents whose tags changed may enter or leave a provisioning profile's
-- scope: the live profiles' scope walks become due at once (and the
-- profile engines are woken). Returns how many agents changed.
WITH u AS (UPDATE agents a SET tags = array_remove(a.tags, $8::text), updated_at = now()
  WHERE {{sel_where}}
    AND a.tags @> ARRAY[$8::text] RETURNING 1),
h AS (UPDATE profile_heads SET scoped_at = NULL
  WHERE deleted_at IS NULL AND EXISTS (SELECT 1 FROM u) RETURNING 1)
SELECT count(*), (SELECT count(pg_notify('uspc_profile', 'tags')) WHERE EXISTS (SELECT 1 FROM h))
FROM u
