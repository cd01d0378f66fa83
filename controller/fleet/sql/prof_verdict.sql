-- Record profile $2 (version $3) on agent $1 after a run: its state ($4,
-- $5 detail), its per-agent memory ($6), the firmware and boot it was
-- judged on ($7, $8), the attempt ($9), a retry in $10 seconds and a drift
-- check in $11 seconds (0: none), and the audit row (triggers $12, entry
-- $13, node $14). A profile deleted meanwhile gets the audit row only.
WITH h AS (INSERT INTO profile_history (eid, name, version, triggers, outcome, detail, entry,
    by_node)
  VALUES ($1, $2, $3::int, string_to_array($12, ','), $4, nullif($5, ''), $13::jsonb, $14)
  RETURNING id)
INSERT INTO profile_agents AS pa (name, eid, version, state, detail, pstate, fw_version,
  boot_seen, attempt, applied_at, retry_at, drift_at, updated_at)
SELECT $2, $1, $3::int, $4, nullif($5, ''), $6::jsonb, $7, $8::bigint, $9::int, now(),
  CASE WHEN $10::bigint > 0 THEN now() + $10::bigint * interval '1 second' END,
  CASE WHEN $11::bigint > 0 THEN now() + $11::bigint * interval '1 second' END, now()
WHERE EXISTS (SELECT 1 FROM profile_heads h WHERE h.name = $2 AND h.deleted_at IS NULL)
ON CONFLICT (name, eid) DO UPDATE SET version = excluded.version, state = excluded.state,
  detail = excluded.detail, pstate = excluded.pstate, fw_version = excluded.fw_version,
  boot_seen = excluded.boot_seen, attempt = excluded.attempt, applied_at = now(),
  retry_at = excluded.retry_at, drift_at = excluded.drift_at, updated_at = now()
RETURNING (SELECT id FROM h)
