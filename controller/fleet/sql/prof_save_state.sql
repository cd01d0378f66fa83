-- A run cut short keeps what it already did: profile $2 (version $3) on
-- agent $1 gets the per-agent memory $4 (once markers of the Operates it
-- sent, Set times, write-only hashes), its state left as it was (a new
-- row is 'pending').
INSERT INTO profile_agents AS pa (name, eid, version, state, pstate)
SELECT $2, $1, $3::int, 'pending', $4::jsonb
WHERE EXISTS (SELECT 1 FROM profile_heads h WHERE h.name = $2 AND h.deleted_at IS NULL)
ON CONFLICT (name, eid) DO UPDATE SET pstate = excluded.pstate, updated_at = now()
