-- An operator's action on campaign $1 ($2 actor, $3 kind, $4 message), and
-- the wake-up of every engine (delivered at commit).
WITH e AS (INSERT INTO campaign_events (campaign, actor, kind, message)
  VALUES ($1::bigint, $2, $3, $4) RETURNING campaign)
SELECT pg_notify('uspc_campaign', campaign::text) FROM e
