-- Campaign $1's devices in wave and seeded order, filtered by state ($2),
-- reason ($3) and 1-based wave ($4) when given, at most $5.
SELECT json_build_object('agent', d.eid, 'state', d.state, 'step', d.step,
  'reason', d.reason, 'fail_class', d.fail_class, 'detail', d.detail, 'attempt', d.attempt,
  'wave', d.wave + 1, 'bank', d.bank, 'model', d.model, 'from_version', d.from_version,
  'started_at', d.started_at, 'finished_at', d.finished_at, 'timeline', d.timeline)::text
FROM campaign_devices d
WHERE d.campaign = $1::bigint AND ($2::text IS NULL OR d.state = $2)
  AND ($3::text IS NULL OR d.reason = $3) AND ($4::int IS NULL OR d.wave = $4::int - 1)
ORDER BY d.wave, d.rank, d.eid
LIMIT $5::bigint
