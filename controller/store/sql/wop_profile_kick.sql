-- Agents that finished onboarding in this batch ($1, text[]) get a
-- provisioning profile run when any profile is live: a row appended to
-- profile_kicks, which waits on no lock an engine holds, and a wake-up for
-- the engines once this commits.
WITH i AS (INSERT INTO profile_kicks (eid, trigger)
  SELECT DISTINCT e, 'onboarding' FROM unnest($1::text[]) e
  WHERE EXISTS (SELECT 1 FROM profile_heads WHERE deleted_at IS NULL) RETURNING 1)
SELECT pg_notify('uspc_profile', 'onboarding') WHERE EXISTS (SELECT 1 FROM i)
