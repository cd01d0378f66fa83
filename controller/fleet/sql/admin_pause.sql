-- Pause campaign $1 with reason $2: the engine starts and activates nothing
-- until it is resumed.
UPDATE campaigns SET state = 'paused', reason = $2, updated_at = now() WHERE id = $1::bigint
