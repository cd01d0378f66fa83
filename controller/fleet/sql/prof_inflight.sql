-- Runs under way now (all engines).
SELECT count(*) FROM profile_runs WHERE started_at IS NOT NULL
