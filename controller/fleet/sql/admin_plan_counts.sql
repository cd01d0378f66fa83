-- Pending and skipped rows of fleet_plan.
SELECT count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'skipped')
FROM fleet_plan
